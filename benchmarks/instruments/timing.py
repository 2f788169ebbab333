"""Seconds of a call with the device drained on both sides."""
import statistics
import time
from typing import Callable, List

import torch


def device_sync() -> None:
    """Wait for queued CUDA work (nothing to wait for on a CPU)."""
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.synchronize()


def timed(fn: Callable) -> float:
    """Wall-clock seconds of ``fn()``, queued device work included."""
    device_sync()
    start = time.perf_counter()
    fn()
    device_sync()
    return time.perf_counter() - start


def summary(times: List[float], batch_size: int) -> dict:
    """Count, median, min, max and stdev of ``times`` (seconds per batch)
    and the images/s of the median; ``{}`` for no times."""
    if not times:
        return {}
    median = statistics.median(times)
    return dict(n=len(times), median_s=median, min_s=min(times),
                max_s=max(times),
                stdev_s=statistics.stdev(times) if len(times) > 1 else 0.0,
                images_per_s=batch_size / median)
