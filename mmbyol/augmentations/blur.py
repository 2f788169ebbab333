r"""Separable Gaussian blur with one sigma per sample, fully batched.

Paper (Table 6): "Gaussian blurring: 224x224 square Gaussian kernel of size
23x23, with a standard deviation uniformly sampled over [0.1, 2.0]". The tap
count scales with the image side as in DeepMind's code (kernel about a tenth
of the side): :math:`K = 2\lfloor s / 20 \rfloor + 1`, 23 at 224, 3 at 32.

.. math:: k_i = \frac{e^{-i^2 / 2\sigma^2}}{\sum_j e^{-j^2 / 2\sigma^2}},
          \quad i = -r, \dots, r,\; r = \lfloor K/2 \rfloor
"""
import math
from typing import Optional

import torch
import torch.nn.functional as F

#: taps whose weight is below this fraction of the centre tap's are dropped
NEGLIGIBLE = 1e-7


def blur_kernel_size(image_size: int) -> int:
    """Odd tap count of the blur kernel for a square view of this side."""
    return 2 * int(image_size / 20) + 1


def blur_radius(max_sigma: float, kernel_size: int) -> int:
    r"""Radius of the taps that matter for sigmas up to ``max_sigma``.

    Beyond :math:`r = \lceil \sigma \sqrt{2 \ln(1 / 10^{-7})} \rceil
    \approx 5.7 \sigma` every weight is below :data:`NEGLIGIBLE` of the
    centre tap, so dropping those taps moves a pixel by less than 1e-6 (the
    rounding of the fp32 sum itself). The paper's 23 taps at 224 px are all
    needed only from sigma 1.9 up; sigma 0.5 needs 7.
    """
    needed = math.ceil(max_sigma * math.sqrt(-2 * math.log(NEGLIGIBLE)))
    return max(0, min(kernel_size // 2, needed))


def gaussian_kernels(sigma: torch.Tensor, kernel_size: int,
                     dtype=torch.float32) -> torch.Tensor:
    """Normalised 1-D Gaussian kernels ``(N, K)``, one per ``sigma``."""
    radius = kernel_size // 2
    x = torch.arange(-radius, radius + 1, device=sigma.device, dtype=dtype)
    k = torch.exp(-x[None] ** 2 / (2 * sigma.to(dtype)[:, None] ** 2))
    return k / k.sum(dim=1, keepdim=True)


def gaussian_blur(x: torch.Tensor, sigma: torch.Tensor,
                  kernel_size: int, padding: str = 'reflect',
                  max_sigma: Optional[float] = None) -> torch.Tensor:
    """Blur each image of ``x`` ``(N, C, H, W)`` with its own ``sigma``.

    Args:
        x: float images.
        sigma: ``(N,)`` standard deviations in pixels.
        kernel_size: odd number of taps.
        padding: ``'reflect'`` (torchvision) or ``'zeros'`` (DeepMind's
            ``'SAME'`` convolution, which darkens the border).
        max_sigma: the largest of ``sigma``, known on the host: the taps
            that cannot matter are skipped (:func:`blur_radius`).
    """
    if max_sigma is not None:
        kernel_size = 2 * blur_radius(max_sigma, kernel_size) + 1
    n, c, h, w = x.shape
    if n == 0 or kernel_size < 2:
        return x
    radius = min(kernel_size // 2, h - 1, w - 1)
    if radius < 1:
        return x
    k = gaussian_kernels(sigma, kernel_size, x.dtype)
    if radius < kernel_size // 2:  # tiny image: drop the far taps
        cut = kernel_size // 2 - radius
        k = k[:, cut:-cut]
        k = k / k.sum(dim=1, keepdim=True)
    mode = 'reflect' if padding == 'reflect' else 'constant'
    y = F.pad(x.contiguous(), (radius, ) * 4, mode=mode)
    two_passes = _separable_taps if x.device.type == 'cpu' else \
        _separable_conv
    return two_passes(y, k, h, w)


def _separable_conv(padded: torch.Tensor, k: torch.Tensor, h: int,
                    w: int) -> torch.Tensor:
    """Rows then columns of ``padded`` with each sample's kernel ``k``
    ``(N, K)``, as two grouped convolutions (one kernel each on a GPU)."""
    n, c = padded.shape[:2]
    taps = k.shape[1]
    k = k.repeat_interleave(c, dim=0)  # (N*C, K)
    y = F.conv2d(padded.reshape(1, n * c, *padded.shape[2:]),
                 k.view(n * c, 1, 1, taps), groups=n * c)
    y = F.conv2d(y, k.view(n * c, 1, taps, 1), groups=n * c)
    return y.reshape(n, c, h, w)


def _separable_taps(padded: torch.Tensor, k: torch.Tensor, h: int,
                    w: int) -> torch.Tensor:
    """:func:`_separable_conv` as multiply-adds of shifted slices (CPU).

    On a CPU, oneDNN's depthwise convolution of a few channels is slower
    than these multiply-adds once another convolution has run in the
    process; on a GPU the convolution is one kernel and stays.
    """
    k = k.view(-1, 1, 1, 1, k.shape[1])
    rows = padded[..., 0:w] * k[..., 0]
    for i in range(1, k.shape[-1]):
        rows.addcmul_(padded[..., i:i + w], k[..., i])
    out = rows[..., 0:h, :] * k[..., 0]
    for i in range(1, k.shape[-1]):
        out.addcmul_(rows[..., i:i + h, :], k[..., i])
    return out
