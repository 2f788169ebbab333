"""The paper's two view distributions and one sampler of their parameters.

Grill et al. (2020), Appendix B / Table 6: "random cropping: a random patch
of the image is selected, with an area uniformly sampled between 8% and 100%
of that of the original image, and an aspect ratio logarithmically sampled
between 3/4 and 4/3 [...] resized to 224x224 using bicubic interpolation;
optional left-right flip; color jittering: the brightness, contrast,
saturation and hue of the image are shifted by a uniformly random offset
applied on all the pixels of the same image. The order in which these shifts
are performed is randomly selected for each patch; color dropping [...];
Gaussian blurring: 224x224 square Gaussian kernel of size 23x23, with a
standard deviation uniformly sampled over [0.1, 2.0]; solarization".

Every probability and range below is that table's; ``T`` and ``T'`` differ
only in the blur probability (1.0 vs 0.1) and the solarize probability (0 vs
0.2). :func:`sample_view_params` draws every parameter per sample, and both
the CPU transform and the batched device path call it, so they draw from
the same distribution by construction.
"""
import math
from dataclasses import dataclass, fields, replace
from typing import Optional, Tuple, Union

import numpy as np
import torch

from .jit import jit

CONVENTIONS = ('torchvision', 'dm_exact')
# the order index of each colour op in ViewParams.order / .factors
BRIGHTNESS, CONTRAST, SATURATION, HUE = range(4)


@dataclass(frozen=True)
class ViewSpec:
    """Probabilities and ranges of one view distribution (paper, Table 6)."""
    crop_area: Tuple[float, float] = (0.08, 1.0)
    crop_ratio: Tuple[float, float] = (3 / 4, 4 / 3)
    flip_prob: float = 0.5
    jitter_prob: float = 0.8
    brightness: float = 0.4
    contrast: float = 0.4
    saturation: float = 0.2
    hue: float = 0.1
    gray_prob: float = 0.2
    blur_prob: float = 1.0
    blur_sigma: Tuple[float, float] = (0.1, 2.0)
    solarize_prob: float = 0.0

    def replace(self, **kwargs) -> 'ViewSpec':
        unknown = set(kwargs) - {f.name for f in fields(self)}
        if unknown:
            raise TypeError(f'ViewSpec has no field(s) {sorted(unknown)}')
        return replace(self, **kwargs)


#: the paper's T (view 1): blur always, never solarize.
BYOL_T = ViewSpec()
#: the paper's T' (view 2): blur with p 0.1, solarize with p 0.2.
BYOL_T_PRIME = ViewSpec(blur_prob=0.1, solarize_prob=0.2)


@dataclass
class ViewParams:
    """Per-sample parameters of one view for a batch of ``N`` images.

    ``crop`` is ``(N, 4)`` int64 ``[top, left, height, width]`` in source
    pixels; ``order`` ``(N, 4)`` is a permutation of the four colour ops;
    ``factors`` ``(N, 4)`` holds brightness, contrast, saturation factors
    and the hue shift (brightness is ``1 + u`` under ``torchvision`` and an
    additive ``u`` under ``dm_exact``, ``u ~ U[-0.4, 0.4]``). The rest are
    ``(N,)`` booleans (``flip``, ``jitter``, ``gray``, ``blur``,
    ``solarize``) and ``sigma`` ``(N,)``.
    """
    crop: torch.Tensor
    flip: torch.Tensor
    jitter: torch.Tensor
    order: torch.Tensor
    factors: torch.Tensor
    gray: torch.Tensor
    blur: torch.Tensor
    sigma: torch.Tensor
    solarize: torch.Tensor

    def __len__(self) -> int:
        return self.flip.shape[0]

    def to(self, device, non_blocking: bool = False) -> 'ViewParams':
        return ViewParams(**{
            f.name: getattr(self, f.name).to(device,
                                             non_blocking=non_blocking)
            for f in fields(self)
        })

    def __getitem__(self, index) -> 'ViewParams':
        return ViewParams(**{f.name: getattr(self, f.name)[index]
                             for f in fields(self)})


def _uniforms(n: int, k: int, generator: Optional[torch.Generator],
              device) -> np.ndarray:
    """``(n, k)`` float64 draws of U[0, 1) from torch's RNG, on the host.

    One draw serves every parameter, and the arithmetic on it runs in
    numpy: for the single-sample calls of the CPU workers a torch op costs
    a few microseconds of dispatch, which was most of the sampling time.
    """
    u = torch.rand((n, k), generator=generator, device=device,
                   dtype=torch.float64)
    return u.cpu().numpy()


def _crop_boxes(H: np.ndarray, W: np.ndarray, u: np.ndarray,
                area: Tuple[float, float], ratio: Tuple[float, float],
                convention: str) -> np.ndarray:
    """Boxes ``(N, 4)`` from uniforms ``u`` ``(N, 2 * tries + 2)``."""
    log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
    return _crop_boxes_kernel(np.ascontiguousarray(H, dtype=np.float64),
                              np.ascontiguousarray(W, dtype=np.float64),
                              np.ascontiguousarray(u), float(area[0]),
                              float(area[1]), *log_ratio, float(ratio[0]),
                              float(ratio[1]), convention == 'torchvision')


@jit
def _crop_boxes_kernel(H, W, u, area0, area1, log_r0, log_r1, r0, r1,
                       retry):
    """One box per row of ``u`` (float64 arithmetic, a loop per sample: a
    single-sample call costs microseconds, not numpy's dozens of calls).

    ``retry`` (torchvision): the first of the tries that fits, else the
    centre crop with the aspect clamped into ``[r0, r1]``; otherwise
    (``dm_exact``) the first try with its sides clipped to the image.
    """
    n = u.shape[0]
    tries = (u.shape[1] - 2) // 2
    boxes = np.empty((n, 4), np.int64)
    for i in range(n):
        h, w = H[i], W[i]  # the fallback if no try fits
        fallback = retry
        for t in range(tries if retry else 1):
            target = (area0 + (area1 - area0) * u[i, t]) * (H[i] * W[i])
            r = math.exp(log_r0 + (log_r1 - log_r0) * u[i, tries + t])
            wt = np.rint(math.sqrt(target * r))
            ht = np.rint(math.sqrt(target / r))
            if not retry:
                h, w = min(ht, H[i]), min(wt, W[i])
            elif 0 < wt <= W[i] and 0 < ht <= H[i]:
                h, w, fallback = ht, wt, False
                break
        if fallback:
            aspect = W[i] / H[i]
            w = np.rint(H[i] * r1) if aspect > r1 else W[i]
            h = np.rint(W[i] / r0) if aspect < r0 else H[i]
            top, left = math.floor((H[i] - h) / 2), math.floor((W[i] - w) / 2)
        else:
            top = min(math.floor(u[i, -2] * (H[i] - h + 1)), H[i] - h)
            left = min(math.floor(u[i, -1] * (W[i] - w + 1)), W[i] - w)
        boxes[i, 0], boxes[i, 1] = top, left
        boxes[i, 2], boxes[i, 3] = h, w
    return boxes


def _crop_draws(convention: str) -> int:
    """Uniforms per crop box: (area, aspect) per try, then top and left."""
    if convention not in CONVENTIONS:
        raise ValueError(f'convention must be one of {CONVENTIONS}, '
                         f'got {convention!r}')
    return 2 * (10 if convention == 'torchvision' else 1) + 2


def _host_sizes(size: Union[int, torch.Tensor], n: int) -> np.ndarray:
    """``(n,)`` float64 sizes from one int or a tensor of one or n."""
    if isinstance(size, torch.Tensor):
        size = size.cpu().numpy()
    size = np.asarray(size, dtype=np.float64).reshape(-1)
    return np.broadcast_to(size, (n, )) if size.size == 1 else size


def sample_view_params(n: int,
                       spec: ViewSpec = BYOL_T,
                       heights: Union[int, torch.Tensor] = 224,
                       widths: Union[int, torch.Tensor] = 224,
                       convention: str = 'torchvision',
                       generator: Optional[torch.Generator] = None,
                       device: Union[str, torch.device, None] = None
                       ) -> ViewParams:
    """Draw every random parameter of ``n`` views, independently per sample.

    Args:
        n (int): number of samples.
        spec (ViewSpec): the view distribution, :data:`BYOL_T` or
            :data:`BYOL_T_PRIME`.
        heights, widths (int | Tensor): source image sizes, one per sample
            or shared, for the crop boxes.
        convention (str): ``'torchvision'`` or ``'dm_exact'`` (changes only
            the crop sampling; the colour draws are the same numbers).
        generator (torch.Generator, optional): the RNG; default torch's
            global one (seeded per worker by MMEngine).
        device: where the result goes (default the generator's device,
            else the CPU). The draws are made on the generator's device
            and the arithmetic on the host.

    Returns:
        ViewParams: on ``device``.
    """
    if generator is not None:
        device = device or generator.device
    device = torch.device(device or 'cpu')
    crop_draws = _crop_draws(convention)
    # per sample: the crop's uniforms, then one uniform per Bernoulli
    # decision (flip, jitter, gray, blur, solarize), 4 to rank for the op
    # order, 4 colour factors and the blur sigma
    u = _uniforms(n, crop_draws + 14, generator,
                  generator.device if generator is not None else device)
    crop = _crop_boxes(_host_sizes(heights, n), _host_sizes(widths, n),
                       u[:, :crop_draws], spec.crop_area, spec.crop_ratio,
                       convention)
    coins, order_keys, colour, blur = np.split(
        u[:, crop_draws:], [5, 9, 13], axis=1)
    span = np.array([spec.brightness, spec.contrast, spec.saturation,
                     spec.hue])
    factors = (2 * colour - 1) * span
    if convention == 'torchvision':
        factors[:, BRIGHTNESS] += 1.0
    factors[:, CONTRAST] += 1.0
    factors[:, SATURATION] += 1.0
    sigma = spec.blur_sigma[0] + (spec.blur_sigma[1] -
                                  spec.blur_sigma[0]) * blur[:, 0]
    probs = np.array([spec.flip_prob, spec.jitter_prob, spec.gray_prob,
                      spec.blur_prob, spec.solarize_prob])
    decided = torch.from_numpy(coins < probs)
    params = ViewParams(
        crop=torch.from_numpy(crop),
        flip=decided[:, 0],
        jitter=decided[:, 1],
        order=torch.from_numpy(order_keys.argsort(axis=1)),
        factors=torch.from_numpy(factors.astype(np.float32)),
        gray=decided[:, 2],
        blur=decided[:, 3],
        sigma=torch.from_numpy(sigma.astype(np.float32)),
        solarize=decided[:, 4])
    return params if device.type == 'cpu' else params.to(device)
