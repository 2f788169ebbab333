"""How close a training step runs to the hardware's peak.

The peak is measured, not looked up: the best GFLOP/s of a large square
matmul, a large channels-last 3x3 convolution and an NCHW one on 4 x 4
maps, on the same device and in the dtype the step computes in (oneDNN and
cuDNN pick other kernels per layout and map size, so the fastest of the
three is taken). A step's FLOPs are the matmul and convolution FLOPs that
``torch.utils.flop_counter`` counts, forward and backward.
"""
from typing import Callable, Optional

import torch
from mmengine.optim import AmpOptimWrapper

from mmbyol.utils.precision import dtype_name
from .timing import timed


def matmul_peak_gflops(dtype: torch.dtype, device: str,
                       n: Optional[int] = None, repeats: int = 5) -> float:
    """Best sustained GFLOP/s of an ``n x n`` matmul (default 4096 on a
    CPU, 8192 on CUDA)."""
    n = n or (8192 if device == 'cuda' else 4096)
    a = torch.randn(n, n, device=device).to(dtype)
    b = torch.randn(n, n, device=device).to(dtype)
    a @ b  # warm-up
    best = min(timed(lambda: a @ b) for _ in range(repeats))
    return 2 * n**3 / best / 1e9


def conv_peak_gflops(dtype: torch.dtype, device: str,
                     n: Optional[int] = None, repeats: int = 5,
                     channels: int = 256, side: int = 32,
                     layout=torch.channels_last) -> float:
    """Best GFLOP/s of a 3x3 convolution, ``channels`` -> ``channels``
    on ``side`` x ``side`` maps in ``layout``, with as many images as make
    ``n * n`` output values (batch 64 at 256 x 32 x 32, n = 4096)."""
    n = n or (8192 if device == 'cuda' else 4096)
    batch = max(1, n * n // (channels * side * side))
    x = torch.randn(batch, channels, side, side, device=device).to(
        dtype).contiguous(memory_format=layout)
    w = torch.randn(channels, channels, 3, 3, device=device).to(
        dtype).contiguous(memory_format=layout)
    conv = lambda: torch.nn.functional.conv2d(x, w, padding=1)  # noqa: E731
    conv()  # warm-up
    best = min(timed(conv) for _ in range(repeats))
    return 2 * batch * channels**2 * 9 * side**2 / best / 1e9


def peak_detail(dtype: torch.dtype, device: str,
                n: Optional[int] = None) -> dict:
    """GFLOP/s of the three kernels whose best is taken as the peak."""
    return dict(
        matmul=matmul_peak_gflops(dtype, device, n),
        conv3x3=conv_peak_gflops(dtype, device, n),
        conv3x3_nchw_4px=conv_peak_gflops(
            dtype, device, n, channels=512, side=4,
            layout=torch.contiguous_format))


def count_flops(step: Callable[[], object], images: int) -> dict:
    """Matmul/convolution GFLOP of ``step()`` (one ``train_step``) per
    image, as ``{'gflop_per_image': ...}``, or ``{'flops_error': ...}``
    where the counter cannot run the step."""
    from torch.utils.flop_counter import FlopCounterMode
    try:
        with FlopCounterMode(display=False) as counter:
            step()
    except Exception as err:  # noqa: BLE001  (reported, not fatal)
        return dict(flops_error=f'{type(err).__name__}: {err}')
    return dict(gflop_per_image=counter.get_total_flops() / 1e9 / images)


def compute_dtype(optim_wrapper) -> str:
    """The dtype a step's convolutions run in: the optimizer wrapper's
    resolved autocast dtype (MMEngine's AMP: float16 unless set), else
    float32."""
    dtype = getattr(optim_wrapper, 'cast_dtype', None) or (
        torch.float16 if isinstance(optim_wrapper, AmpOptimWrapper)
        else torch.float32)
    return dtype_name(dtype)


def roofline(entry: dict, dtype: str, peaks: dict) -> None:
    """Add to ``entry`` (with ``gflop_per_image`` and
    ``iteration.images_per_s``) the achieved GFLOP/s, the fraction of the
    measured peak of ``dtype`` and the images/s at that peak."""
    flop = entry.get('gflop_per_image')
    speed = entry['iteration'].get('images_per_s')
    if not flop or not speed or dtype not in peaks:  # e.g. float16
        return
    entry.update(compute_dtype=dtype, gflops=flop * speed,
                 fraction_of_peak=flop * speed / peaks[dtype],
                 ceiling_images_per_s=peaks[dtype] / flop)
