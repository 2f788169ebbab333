"""Keep freed host memory in the process, so tensors reuse faulted pages.

glibc's ``malloc`` serves every block above 128 KiB-32 MiB with a fresh
``mmap`` and gives it back to the kernel on ``free``. A CPU training step
allocates and frees gigabytes of activations and gradients, so every
iteration page-faults all of them in again, and the kernel zeroes each page
first.

:func:`reuse_host_memory` tells glibc to serve large blocks from its heap
(``M_MMAP_MAX = 0``; glibc still falls back to ``mmap`` when the heap cannot
grow) and to keep freed memory at the top of the heap (``M_TRIM_THRESHOLD``
2 GiB). The resident memory then stays at its peak instead of following
each allocation. ``benchmarks/speed.py`` reports the page faults per
iteration and the peak resident memory with and without it. Forked data-loader workers inherit the setting. Off glibc (macOS, Windows,
musl) it does nothing.
"""
import ctypes
import ctypes.util
from typing import Optional

# mallopt parameters (malloc.h)
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
M_MMAP_MAX = -4
# glibc's defaults, restored by reuse_host_memory(False)
DEFAULTS = {M_TRIM_THRESHOLD: 128 * 1024, M_MMAP_THRESHOLD: 128 * 1024,
            M_MMAP_MAX: 65536}
REUSE = {M_TRIM_THRESHOLD: 2**31 - 1, M_MMAP_MAX: 0}


def _glibc() -> Optional[ctypes.CDLL]:
    name = ctypes.util.find_library('c')
    try:
        libc = ctypes.CDLL(name)
    except OSError:
        return None
    if not (hasattr(libc, 'mallopt') and hasattr(libc, 'malloc_trim')):
        return None  # not glibc
    return libc


def reuse_host_memory(enable: bool = True) -> bool:
    """Keep (``True``) or return (``False``, glibc's default) freed host
    memory; returns whether the allocator took the setting.

    With ``False`` glibc's default values come back (as fixed values: the
    mmap threshold no longer adapts as glibc's does before any
    ``mallopt``) and the free memory kept so far is returned to the kernel
    (``malloc_trim``).
    """
    libc = _glibc()
    if libc is None:
        return False
    values = REUSE if enable else DEFAULTS
    ok = all(libc.mallopt(param, value) == 1
             for param, value in values.items())
    if not enable:
        libc.malloc_trim(0)
    return ok
