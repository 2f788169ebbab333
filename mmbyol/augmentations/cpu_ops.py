"""The per-pixel passes of the fused CPU kernels (numba), one op each.

Each function is one loop over an image's pixels (the blur: two, rows then
columns), with the formula and fp32 arithmetic of its tensor op in
:mod:`~mmbyol.augmentations.color` and :mod:`~mmbyol.augmentations.blur`.
Channels come as three flat ``float32`` arrays ``r, g, b``, changed in
place. :mod:`~mmbyol.augmentations.cpu_kernels` sequences them per image.
"""
import math

import numpy as np

from .blur import NEGLIGIBLE
from .color import _OFFSETS
from .jit import jit


F0, F1, F1_6 = np.float32(0.0), np.float32(1.0), np.float32(1 / 6)


@jit
def _clip(v):
    return min(max(v, F0), F1)


@jit
def _mod6(k):
    return k - np.float32(6.0) * np.floor(k * F1_6)


@jit
def _ramp(offset, hue6):
    k = _mod6(offset + hue6)
    return min(max(min(k, np.float32(4.0) - k), F0), F1)


@jit
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


@jit
def _set_rgb_from_hue6(r, g, b, p, hue6, v, chroma):
    r[p] = _clip(v - chroma * _ramp(np.float32(_OFFSETS[0]), hue6))
    g[p] = _clip(v - chroma * _ramp(np.float32(_OFFSETS[1]), hue6))
    b[p] = _clip(v - chroma * _ramp(np.float32(_OFFSETS[2]), hue6))


@jit
def brightness_(r, g, b, f, dm):
    for p in range(r.shape[0]):
        if dm:
            r[p], g[p], b[p] = _clip(r[p] + f), _clip(g[p] + f), \
                _clip(b[p] + f)
        else:
            r[p], g[p], b[p] = _clip(r[p] * f), _clip(g[p] * f), \
                _clip(b[p] * f)


@jit
def _mean(x):
    total = 0.0
    for p in range(x.shape[0]):
        total += x[p]
    return np.float32(total / x.shape[0])


@jit
def _gray_mean(r, g, b, luma):
    total = 0.0
    for p in range(r.shape[0]):
        total += luma[0] * r[p] + luma[1] * g[p] + luma[2] * b[p]
    return np.float32(total / r.shape[0])


@jit
def contrast_(r, g, b, f, dm, luma):
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


@jit
def saturation_(r, g, b, f, dm, luma):
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


@jit
def hue_(r, g, b, shift):
    shift6 = np.float32(6.0) * shift
    for p in range(r.shape[0]):
        hue6, v, delta = _hue6_max_delta(r[p], g[p], b[p])
        _set_rgb_from_hue6(r, g, b, p, hue6 + shift6, v, delta)


@jit
def gray_(r, g, b, luma):
    for p in range(r.shape[0]):
        y = luma[0] * r[p] + luma[1] * g[p] + luma[2] * b[p]
        r[p], g[p], b[p] = y, y, y


@jit
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


@jit
def _reflect(i, n):
    if i < 0:
        return -i
    if i >= n:
        return 2 * (n - 1) - i
    return i


@jit
def blur_(img, sigma, kernel_size, zeros):
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


@jit
def finish_(r, g, b, solar, scale, shift):
    """Solarize (optional), the final clip, then ``v * scale - shift``."""
    for p in range(r.shape[0]):
        vr, vg, vb = r[p], g[p], b[p]
        if solar:
            vr, vg, vb = min(vr, F1 - vr), min(vg, F1 - vg), min(vb, F1 - vb)
        r[p] = _clip(vr) * scale[0] - shift[0]
        g[p] = _clip(vg) * scale[1] - shift[1]
        b[p] = _clip(vb) * scale[2] - shift[2]
