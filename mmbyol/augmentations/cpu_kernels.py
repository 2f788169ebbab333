"""The photometric ops of :func:`~mmbyol.augmentations.apply_photometric`
fused per pixel, for tensors on a CPU (numba).

On a CPU every PyTorch op is one pass over the image with its own dispatch,
and the hue rotation alone is about 25 of them. Here each colour op, the
grayscale and the solarize are one pass per image and the blur is two, with
the same formulas, order and fp32 arithmetic as the tensor ops in
:mod:`~mmbyol.augmentations.color` and :mod:`~mmbyol.augmentations.blur`
(which stay the reference, and the code path on accelerators). Outputs agree
with them within 5e-6 (``tests/augmentations/test_cpu_kernels.py``).

Three entry points: :func:`photometric_` (in place on [0, 1] floats, for
:func:`apply_photometric`), :func:`photometric_uint8` (uint8 in and out,
for the workers' ``BYOLViews``) and :func:`photometric_normalized` (0-255
views in, normalised views out, for ``BYOLDataPreprocessor`` on a CPU). numba
compiles them on first use (seconds, then cached in ``__pycache__``).
Without numba, or inside ``with use_cpu_kernels(False):``, the tensor ops
run on the CPU too.
"""
from contextlib import contextmanager

import numpy as np
import torch

from .color import LUMA
from .cpu_ops import (blur_, brightness_, contrast_, finish_, gray_, hue_,
                      saturation_)
from .jit import jit, numba

_enabled = numba is not None


def cpu_kernels_enabled() -> bool:
    """Whether :func:`apply_photometric` uses these kernels on a CPU."""
    return _enabled


@contextmanager
def use_cpu_kernels(enabled: bool):
    """Switch the fused CPU kernels on or off inside a ``with`` block."""
    global _enabled
    previous = _enabled
    _enabled = bool(enabled) and numba is not None
    try:
        yield
    finally:
        _enabled = previous


@jit
def _one_image(img, i, jitter, order, factors, gray, blur, sigma, solar, dm,
               kernel_size, luma, scale, shift):
    r = img[0].reshape(-1)
    g = img[1].reshape(-1)
    b = img[2].reshape(-1)
    if jitter[i]:
        for step in range(4):
            op = order[i, step]
            f = factors[i, op]
            if op == 0:
                brightness_(r, g, b, f, dm)
            elif op == 1:
                contrast_(r, g, b, f, dm, luma)
            elif op == 2:
                saturation_(r, g, b, f, dm, luma)
            else:
                hue_(r, g, b, f)
    if gray[i]:
        gray_(r, g, b, luma)
    if blur[i]:
        blur_(img, sigma[i], kernel_size, dm)
    finish_(r, g, b, solar[i], scale, shift)


@jit
def _photometric(x, jitter, order, factors, gray, blur, sigma, solar, dm,
                 kernel_size, luma, scale, shift):
    for i in range(x.shape[0]):
        _one_image(x[i], i, jitter, order, factors, gray, blur, sigma, solar,
                   dm, kernel_size, luma, scale, shift)


@jit
def _photometric_uint8(src, x, jitter, order, factors, gray, blur, sigma,
                       solar, dm, kernel_size, luma, scale, shift):
    for i in range(x.shape[0]):
        s, d = src[i].reshape(-1), x[i].reshape(-1)
        for p in range(d.shape[0]):
            d[p] = np.float32(s[p]) / np.float32(255.0)
        _one_image(x[i], i, jitter, order, factors, gray, blur, sigma, solar,
                   dm, kernel_size, luma, scale, shift)


@jit
def _photometric_hwc_uint8(src, out, jitter, order, factors, gray, blur,
                           sigma, solar, dm, kernel_size, luma, scale,
                           shift):
    """uint8 ``(N, H, W, 3)`` in and out, planar fp32 in between."""
    n, h, w, _ = src.shape
    img = np.empty((3, h, w), np.float32)
    r, g, b = img[0].reshape(-1), img[1].reshape(-1), img[2].reshape(-1)
    for i in range(n):
        s, d = src[i].reshape(-1), out[i].reshape(-1)
        for p in range(r.shape[0]):
            r[p] = np.float32(s[3 * p]) / np.float32(255.0)
            g[p] = np.float32(s[3 * p + 1]) / np.float32(255.0)
            b[p] = np.float32(s[3 * p + 2]) / np.float32(255.0)
        _one_image(img, i, jitter, order, factors, gray, blur, sigma, solar,
                   dm, kernel_size, luma, scale, shift)
        for p in range(r.shape[0]):
            d[3 * p] = np.uint8(np.rint(r[p]))
            d[3 * p + 1] = np.uint8(np.rint(g[p]))
            d[3 * p + 2] = np.uint8(np.rint(b[p]))


def _host(t) -> np.ndarray:
    return np.ascontiguousarray(t.numpy())


def _args(params, convention: str, kernel_size: int, scale, shift) -> tuple:
    def per_channel(v):
        return np.ascontiguousarray(np.broadcast_to(
            np.asarray(v, dtype=np.float32).reshape(-1), (3, )))

    return (_host(params.jitter), _host(params.order), _host(params.factors),
            _host(params.gray), _host(params.blur), _host(params.sigma),
            _host(params.solarize), convention == 'dm_exact', kernel_size,
            np.array(LUMA[convention], dtype=np.float32), per_channel(scale),
            per_channel(shift))


def photometric_(x, params, convention: str, kernel_size: int) -> None:
    """Apply the photometric ops to float32 ``x`` ``(N, 3, H, W)`` in [0, 1]
    (a contiguous CPU tensor) in place, with host ``params``."""
    _photometric(x.numpy(), *_args(params, convention, kernel_size, 1.0,
                                   0.0))


def photometric_normalized(src, out, params, convention: str,
                           kernel_size: int, scale, shift) -> None:
    """``out = photometric(src / 255) * scale - shift`` per channel.

    ``src`` ``(N, 3, H, W)`` on the 0-255 scale (uint8 or float) and
    float32 ``out`` are contiguous CPU tensors; ``scale`` and ``shift`` have
    one value or three (numbers, or CPU tensors such as the preprocessor's
    ``(3, 1, 1)`` buffers). The conversion and the normalisation are folded
    into the first and the last pass over each image.
    """
    args = _args(params, convention, kernel_size, scale, shift)
    if src.dtype == torch.uint8:
        _photometric_uint8(src.numpy(), out.numpy(), *args)
    else:
        torch.div(src, 255, out=out)
        _photometric(out.numpy(), *args)


def photometric_uint8(view, params, convention: str,
                      kernel_size: int):
    """The photometric ops of uint8 views ``(N, 3, H, W)`` (0-255, any
    memory layout, on the CPU), rounded back to uint8, channels-last (the
    layout of ``BYOLViews``' resized crops and of the arrays it returns)."""
    src = view.contiguous(memory_format=torch.channels_last)
    out = torch.empty(src.shape, dtype=torch.uint8,
                      memory_format=torch.channels_last)
    _photometric_hwc_uint8(
        src.permute(0, 2, 3, 1).numpy(), out.permute(0, 2, 3, 1).numpy(),
        *_args(params, convention, kernel_size, 255.0, 0.0))
    return out

