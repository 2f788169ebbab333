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
compiles them on first use (about 5 s, then cached in ``__pycache__``).
Without numba, or inside ``with use_cpu_kernels(False):``, the tensor ops
run on the CPU too.
"""
import math
from contextlib import contextmanager

import numpy as np
import torch

try:
    import numba
except ImportError:  # pragma: no cover - numba is a dependency
    numba = None

from .blur import NEGLIGIBLE
from .color import _OFFSETS, LUMA

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


def _jit(fn):
    # no fastmath: same rounding as the tensor ops (bar FMA contraction)
    return numba.njit(cache=True, boundscheck=False, fastmath={'contract'},
                      nogil=True)(fn) if numba is not None else fn


F0, F1, F1_6 = np.float32(0.0), np.float32(1.0), np.float32(1 / 6)


@_jit
def _clip(v):
    return min(max(v, F0), F1)


@_jit
def _mod6(k):
    return k - np.float32(6.0) * np.floor(k * F1_6)


@_jit
def _ramp(offset, hue6):
    k = _mod6(offset + hue6)
    return min(max(min(k, np.float32(4.0) - k), F0), F1)


@_jit
def _hue6_max_delta(r, g, b):
    maxc = max(max(r, g), b)
    delta = maxc - min(min(r, g), b)
    red = F1 if maxc == r else F0
    green = (F1 if maxc == g else F0) * (F1 - red)
    blue = F1 - red - green
    hue6 = (red * (g - b) + green * (b - r + np.float32(2.0) * delta) +
            blue * (r - g + np.float32(4.0) * delta)) / max(
                delta, np.float32(1e-12))
    return hue6, maxc, delta


@_jit
def _set_rgb_from_hue6(r, g, b, p, hue6, v, chroma):
    r[p] = _clip(v - chroma * _ramp(np.float32(_OFFSETS[0]), hue6))
    g[p] = _clip(v - chroma * _ramp(np.float32(_OFFSETS[1]), hue6))
    b[p] = _clip(v - chroma * _ramp(np.float32(_OFFSETS[2]), hue6))


@_jit
def _brightness(r, g, b, f, dm):
    for p in range(r.shape[0]):
        if dm:
            r[p], g[p], b[p] = _clip(r[p] + f), _clip(g[p] + f), \
                _clip(b[p] + f)
        else:
            r[p], g[p], b[p] = _clip(r[p] * f), _clip(g[p] * f), \
                _clip(b[p] * f)


@_jit
def _mean(x):
    total = 0.0
    for p in range(x.shape[0]):
        total += x[p]
    return np.float32(total / x.shape[0])


@_jit
def _gray_mean(r, g, b, luma):
    total = 0.0
    for p in range(r.shape[0]):
        total += luma[0] * r[p] + luma[1] * g[p] + luma[2] * b[p]
    return np.float32(total / r.shape[0])


@_jit
def _contrast(r, g, b, f, dm, luma):
    if dm:  # each channel against its own mean
        means = (_mean(r), _mean(g), _mean(b))
    else:
        m = _gray_mean(r, g, b, luma)
        means = (m, m, m)
    keep = F1 - f
    sr, sg, sb = keep * means[0], keep * means[1], keep * means[2]
    for p in range(r.shape[0]):
        r[p], g[p], b[p] = _clip(f * r[p] + sr), _clip(f * g[p] + sg), \
            _clip(f * b[p] + sb)


@_jit
def _saturation(r, g, b, f, dm, luma):
    keep = F1 - f
    for p in range(r.shape[0]):
        if dm:  # S <- clip(S f) in HSV
            hue6, v, delta = _hue6_max_delta(r[p], g[p], b[p])
            h = _mod6(hue6) / np.float32(6.0)
            s = _clip(delta / max(v, np.float32(1e-12)) * f)
            _set_rgb_from_hue6(r, g, b, p, np.float32(6.0) * h, v, v * s)
        else:
            y = luma[0] * r[p] + luma[1] * g[p] + luma[2] * b[p]
            ky = keep * y
            r[p], g[p], b[p] = _clip(f * r[p] + ky), _clip(f * g[p] + ky), \
                _clip(f * b[p] + ky)


@_jit
def _hue(r, g, b, shift):
    shift6 = np.float32(6.0) * shift
    for p in range(r.shape[0]):
        hue6, v, delta = _hue6_max_delta(r[p], g[p], b[p])
        _set_rgb_from_hue6(r, g, b, p, hue6 + shift6, v, delta)


@_jit
def _gray(r, g, b, luma):
    for p in range(r.shape[0]):
        y = luma[0] * r[p] + luma[1] * g[p] + luma[2] * b[p]
        r[p], g[p], b[p] = y, y, y


@_jit
def _blur_taps(sigma, kernel_size, h, w):
    """The kernel of :func:`~mmbyol.augmentations.gaussian_blur` with
    ``max_sigma=sigma``: negligible taps dropped, cut to the image."""
    needed = math.ceil(np.float64(sigma) *
                       math.sqrt(-2.0 * math.log(NEGLIGIBLE)))
    size = 2 * max(0, min(kernel_size // 2, needed)) + 1
    radius = min(size // 2, h - 1, w - 1)
    x = np.arange(-(size // 2), size // 2 + 1).astype(np.float32)
    k = np.exp(-(x * x) / (np.float32(2.0) * (sigma * sigma)))
    k = k / k.sum()
    if radius < size // 2:
        cut = size // 2 - radius
        k = k[cut:size - cut]
        k = k / k.sum()
    return k, radius


@_jit
def _reflect(i, n):
    if i < 0:
        return -i
    if i >= n:
        return 2 * (n - 1) - i
    return i


@_jit
def _blur(img, sigma, kernel_size, zeros):
    """Separable blur of one ``(3, H, W)`` image in place: rows, then
    columns, over the padded image, as ``_separable_taps``."""
    _, h, w = img.shape
    if kernel_size < 2:
        return
    k, radius = _blur_taps(sigma, kernel_size, h, w)
    if radius < 1:
        return
    taps = k.shape[0]
    padded = np.zeros((h + 2 * radius, w + 2 * radius), np.float32)
    rows = np.empty((h + 2 * radius, w), np.float32)
    for c in range(3):
        for i in range(h + 2 * radius):
            si = i - radius
            if zeros and (si < 0 or si >= h):
                continue  # a row of zeros
            src = img[c, _reflect(si, h)]
            padded[i, radius:radius + w] = src
            for j in range(radius):
                if not zeros:
                    padded[i, radius - 1 - j] = src[j + 1]
                    padded[i, radius + w + j] = src[w - 2 - j]
        for i in range(h + 2 * radius):
            for j in range(w):
                rows[i, j] = padded[i, j] * k[0]
            for t in range(1, taps):
                kt = k[t]
                for j in range(w):
                    rows[i, j] += padded[i, j + t] * kt
        for i in range(h):
            for j in range(w):
                img[c, i, j] = rows[i, j] * k[0]
            for t in range(1, taps):
                kt = k[t]
                for j in range(w):
                    img[c, i, j] += rows[i + t, j] * kt


@_jit
def _finish(r, g, b, solar, scale, shift):
    """Solarize (optional), the final clip, then ``v * scale - shift``."""
    for p in range(r.shape[0]):
        vr, vg, vb = r[p], g[p], b[p]
        if solar:
            vr, vg, vb = min(vr, F1 - vr), min(vg, F1 - vg), min(vb, F1 - vb)
        r[p] = _clip(vr) * scale[0] - shift[0]
        g[p] = _clip(vg) * scale[1] - shift[1]
        b[p] = _clip(vb) * scale[2] - shift[2]


@_jit
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
                _brightness(r, g, b, f, dm)
            elif op == 1:
                _contrast(r, g, b, f, dm, luma)
            elif op == 2:
                _saturation(r, g, b, f, dm, luma)
            else:
                _hue(r, g, b, f)
    if gray[i]:
        _gray(r, g, b, luma)
    if blur[i]:
        _blur(img, sigma[i], kernel_size, dm)
    _finish(r, g, b, solar[i], scale, shift)


@_jit
def _photometric(x, jitter, order, factors, gray, blur, sigma, solar, dm,
                 kernel_size, luma, scale, shift):
    for i in range(x.shape[0]):
        _one_image(x[i], i, jitter, order, factors, gray, blur, sigma, solar,
                   dm, kernel_size, luma, scale, shift)


@_jit
def _photometric_uint8(src, x, jitter, order, factors, gray, blur, sigma,
                       solar, dm, kernel_size, luma, scale, shift):
    for i in range(x.shape[0]):
        s, d = src[i].reshape(-1), x[i].reshape(-1)
        for p in range(d.shape[0]):
            d[p] = np.float32(s[p]) / np.float32(255.0)
        _one_image(x[i], i, jitter, order, factors, gray, blur, sigma, solar,
                   dm, kernel_size, luma, scale, shift)


@_jit
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
    one value or three. The conversion and the normalisation are folded
    into the first and the last pass over each image.
    """
    args = _args(params, convention, kernel_size,
                 _as_numpy(scale), _as_numpy(shift))
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


def _as_numpy(v):
    """A tensor's values as numpy (float32); other values as they are."""
    return v.detach().cpu().float().numpy() if isinstance(
        v, torch.Tensor) else v
