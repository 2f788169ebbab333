r"""Batched colour ops on float images ``(N, 3, H, W)`` in ``[0, 1]``.

Every op takes one factor per sample, shape ``(N,)``. Two conventions:

* ``torchvision`` (most PyTorch ports; ``torchvision.transforms.v2``
  functional on float tensors): brightness :math:`x f`, contrast
  :math:`f x + (1 - f)\,\overline{Y}` with :math:`\overline{Y}` the mean of
  the image's luma, saturation :math:`f x + (1 - f) Y`, hue a rotation in
  HSV; luma :math:`Y = 0.2989 R + 0.587 G + 0.114 B`.
* ``dm_exact`` (DeepMind's reference BYOL): brightness additive
  :math:`x + \delta`, contrast :math:`f (x - \bar{x}_c) + \bar{x}_c` with
  each channel's own mean, saturation :math:`S \leftarrow \mathrm{clip}(S f)`
  in HSV, hue a rotation in HSV; luma weights 0.2989, 0.5870, 0.1140.

Both clip to ``[0, 1]`` after every op.
"""
import torch

LUMA = {
    'torchvision': (0.2989, 0.587, 0.114),
    'dm_exact': (0.2989, 0.5870, 0.1140),
}


def _per_sample(f: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return f.to(x.dtype).reshape(-1, 1, 1, 1)


def to_gray(x: torch.Tensor, convention: str = 'torchvision'
            ) -> torch.Tensor:
    """Luma ``(N, 1, H, W)`` of RGB ``x`` (ITU-R 601 weights)."""
    r, g, b = LUMA[convention]
    return r * x[:, 0:1] + g * x[:, 1:2] + b * x[:, 2:3]


def _mod6(k: torch.Tensor) -> torch.Tensor:
    """``k mod 6`` as ``k - 6 floor(k / 6)``, cheaper on a CPU than
    ``torch.remainder`` (same values; where rounding puts ``k`` at
    6 instead of 0, the periodic ramp below gives the same colour)."""
    return k - 6 * torch.floor(k * (1 / 6))


def _hue6_max_delta(x: torch.Tensor):
    """Hue in sixths (``6 H``, in [-1, 5)), max and max - min of RGB
    ``(N, 3, H, W)``.

    The sector of the max is picked arithmetically with 0/1 weights,
    because on a CPU ``torch.where`` costs far more per element than
    ``maximum``. The comparisons write their 0/1 straight into float
    tensors, which saves converting a bool result with ``.to``. Grey
    pixels (max = min) get hue 0.
    """
    r, g, b = x[:, 0], x[:, 1], x[:, 2]
    maxc = torch.maximum(torch.maximum(r, g), b)
    delta = maxc - torch.minimum(torch.minimum(r, g), b)
    red = torch.eq(maxc, r, out=torch.empty_like(maxc))
    green = torch.eq(maxc, g, out=torch.empty_like(maxc)).mul_(1 - red)
    blue = 1 - red - green
    hue6 = (red * (g - b) + green * (b - r + 2 * delta) +
            blue * (r - g + 4 * delta)) / delta.clamp_min(1e-12)
    return hue6, maxc, delta


def rgb_to_hsv(x: torch.Tensor) -> torch.Tensor:
    """RGB ``(N, 3, H, W)`` in [0, 1] -> HSV with every channel in [0, 1]."""
    hue6, v, delta = _hue6_max_delta(x)
    return torch.stack([_mod6(hue6) / 6, delta / v.clamp_min(1e-12), v],
                       dim=1)


# channel offsets of R, G, B in the piecewise-linear HSV -> RGB formula
_OFFSETS = (5.0, 3.0, 1.0)


def _rgb_from_hue6(hue6: torch.Tensor, v: torch.Tensor,
                   chroma: torch.Tensor) -> torch.Tensor:
    r"""RGB ``(N, 3, H, W)`` from hue in sixths, value and chroma
    ``V S``, all ``(N, 1, H, W)``, without branches.

    .. math:: c_n = V - V S \,\mathrm{clip}(\min(k_n, 4 - k_n), 0, 1),
              \quad k_n = (n + 6H) \bmod 6,\; n = 5, 3, 1 \text{ for R,
              G, B}
    """
    offsets = torch.tensor(_OFFSETS, device=hue6.device,
                           dtype=hue6.dtype).view(1, 3, 1, 1)
    k = _mod6(offsets + hue6)
    ramp = torch.minimum(k, 4 - k).clamp_(0, 1)
    return v - chroma * ramp


def hsv_to_rgb(hsv: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`rgb_to_hsv`."""
    h, s, v = hsv[:, 0:1], hsv[:, 1:2], hsv[:, 2:3]
    return _rgb_from_hue6(6 * h, v, v * s)


def adjust_brightness(x, f, convention='torchvision'):
    if convention == 'dm_exact':
        return (x + _per_sample(f, x)).clamp_(0, 1)
    return (x * _per_sample(f, x)).clamp_(0, 1)


def adjust_contrast(x, f, convention='torchvision'):
    if convention == 'dm_exact':
        mean = x.mean(dim=(2, 3), keepdim=True)
    else:
        mean = to_gray(x, convention).mean(dim=(1, 2, 3), keepdim=True)
    f = _per_sample(f, x)
    return (f * x + (1 - f) * mean).clamp_(0, 1)


def adjust_saturation(x, f, convention='torchvision'):
    if convention == 'dm_exact':
        hsv = rgb_to_hsv(x)
        hsv[:, 1] = (hsv[:, 1] * f.to(x.dtype).reshape(-1, 1, 1)).clamp_(0, 1)
        return hsv_to_rgb(hsv).clamp_(0, 1)
    f = _per_sample(f, x)
    return (f * x + (1 - f) * to_gray(x, convention)).clamp_(0, 1)


def adjust_hue(x, shift, convention='torchvision'):
    # rotating H keeps V = max and V S = max - min: skip S altogether
    hue6, v, delta = _hue6_max_delta(x)
    hue6 = hue6 + 6 * shift.to(x.dtype).reshape(-1, 1, 1)
    return _rgb_from_hue6(hue6[:, None], v[:, None],
                          delta[:, None]).clamp_(0, 1)


#: the colour ops in the index order of :class:`ViewParams.factors`
COLOR_OPS = (adjust_brightness, adjust_contrast, adjust_saturation,
             adjust_hue)


def solarize(x: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """Invert every value at or above ``threshold``: ``1 - x``."""
    if threshold == 0.5:  # on [0, 1] that is min(x, 1 - x), one pass
        return torch.minimum(x, 1 - x)
    return torch.where(x >= threshold, 1 - x, x)
