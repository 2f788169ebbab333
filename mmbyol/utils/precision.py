"""Which autocast dtype pays off on the hardware that trains.

bf16 autocast is only a speed-up where the device computes bf16 natively.
On a CPU with plain AVX2 (e.g. AMD Zen 3) oneDNN and MKL have no fast bf16
kernels and emulate them, far slower than fp32 (``benchmarks/speed.py``
measures the bf16 and fp32 peaks of the machine it runs on). ``'auto'``
therefore means bf16 where it is native and fp32 elsewhere.
"""
import warnings
from typing import Union

import torch

DTYPES = ('auto', 'bfloat16', 'float16', 'float32')


def native_bf16(device_type: str) -> bool:
    """Whether ``device_type`` runs bf16 convolutions and matmuls natively.

    CPU: oneDNN's own check as PyTorch exposes it (on x86: AVX-512 or the
    bf16 extensions of newer AVX2 cores; on Arm: the bf16 extension).
    CUDA: compute capability 8.0 or newer, emulation not counted. Other
    devices: assumed.
    """
    if device_type == 'cpu':
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    if device_type == 'cuda':
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported(
            including_emulation=False)
    return True


def autocast_dtype(dtype: Union[str, torch.dtype],
                   device_type: str) -> torch.dtype:
    """The dtype autocast should use for ``dtype`` on ``device_type``.

    ``'auto'`` is bf16 where :func:`native_bf16`, else fp32 (autocast off).
    An explicit ``'bfloat16'`` on a device without native bf16 is kept, with
    a warning: it trains, but far slower than fp32.
    """
    if isinstance(dtype, str):
        if dtype not in DTYPES:
            raise ValueError(f'dtype must be one of {", ".join(DTYPES)}, '
                             f'got {dtype!r}')
        if dtype == 'auto':
            native = native_bf16(device_type)
            return torch.bfloat16 if native else torch.float32
        dtype = getattr(torch, dtype)
    if dtype == torch.bfloat16 and not native_bf16(device_type):
        warnings.warn(
            f'bf16 autocast on a {device_type} without native bf16 kernels '
            '(e.g. an x86 CPU with plain AVX2): bf16 convolutions and '
            'matmuls are emulated there, far slower than fp32. Use '
            'dtype="auto" (bf16 only where native) or "float32".',
            stacklevel=3)
    return dtype


def dtype_name(dtype: torch.dtype) -> str:
    """``torch.bfloat16`` -> ``'bfloat16'``, as configs and reports name it."""
    return str(dtype).split('.')[-1]


def autocast(device_type: str, dtype: torch.dtype) -> torch.autocast:
    """``torch.autocast`` in ``dtype``; off for float32."""
    return torch.autocast(device_type, dtype=dtype,
                          enabled=dtype != torch.float32)
