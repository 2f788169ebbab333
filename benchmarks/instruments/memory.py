"""Peak memory of this process while a block of work runs."""
import os.path as osp
import threading

import torch


class PeakMemory:
    """Peak CPU resident memory, sampled every 10 ms from
    ``/proc/self/statm`` by a daemon thread, or, where CUDA is in use,
    ``torch.cuda.max_memory_allocated``; in MB.

    Data-loader workers are separate processes and are not counted.
    """

    def __init__(self) -> None:
        self.cuda = torch.cuda.is_available() and torch.cuda.is_initialized()
        self.peak, self._stop = 0, threading.Event()
        if not self.cuda and osp.exists('/proc/self/statm'):
            import resource
            self._page = resource.getpagesize()
            threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self) -> None:
        while not self._stop.wait(0.01):
            with open('/proc/self/statm') as f:
                rss = int(f.read().split()[1]) * self._page
            self.peak = max(self.peak, rss)

    def reset(self) -> None:
        """Start a new peak."""
        self.peak = 0
        if self.cuda:
            torch.cuda.reset_peak_memory_stats()

    def read_mb(self) -> float:
        """The peak since the last :meth:`reset`, in MB."""
        peak = torch.cuda.max_memory_allocated() if self.cuda else self.peak
        return peak / 2**20

    def close(self) -> None:
        """Stop the sampling thread."""
        self._stop.set()
