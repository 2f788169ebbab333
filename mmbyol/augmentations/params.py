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

import torch

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


def _uniform(shape, low, high, generator, device) -> torch.Tensor:
    u = torch.rand(shape, generator=generator, device=device)
    return low + (high - low) * u


def sample_crop_boxes(heights: torch.Tensor, widths: torch.Tensor,
                      area: Tuple[float, float] = (0.08, 1.0),
                      ratio: Tuple[float, float] = (3 / 4, 4 / 3),
                      convention: str = 'torchvision',
                      generator: Optional[torch.Generator] = None
                      ) -> torch.Tensor:
    r"""Random-resized-crop boxes ``(N, 4)`` = ``[top, left, h, w]``.

    Area fraction :math:`s \sim U[0.08, 1]`, aspect
    :math:`\log r \sim U[\log 3/4, \log 4/3]`,
    :math:`w = \mathrm{round}(\sqrt{s A r})`, :math:`h =
    \mathrm{round}(\sqrt{s A / r})`, offsets uniform over the valid range.

    * ``torchvision``: up to 10 tries per sample until the box fits, else
      the centre crop with the aspect clamped to the range (as
      ``torchvision.transforms.RandomResizedCrop``).
    * ``dm_exact``: a single draw whose sides are clipped to the image
      (DeepMind's BYOL ``_decode_and_random_crop``).
    """
    if convention not in CONVENTIONS:
        raise ValueError(f'convention must be one of {CONVENTIONS}, '
                         f'got {convention!r}')
    device = generator.device if generator is not None else heights.device
    H = heights.to(device, torch.float64)
    W = widths.to(device, torch.float64)
    n = H.shape[0]
    tries = 10 if convention == 'torchvision' else 1
    scale = _uniform((n, tries), area[0], area[1], generator, device)
    log_r = _uniform((n, tries), math.log(ratio[0]), math.log(ratio[1]),
                     generator, device)
    target = scale.double() * (H * W)[:, None]
    r = torch.exp(log_r.double())
    w = torch.round(torch.sqrt(target * r))
    h = torch.round(torch.sqrt(target / r))
    if convention == 'dm_exact':
        h = torch.minimum(h[:, 0], H)
        w = torch.minimum(w[:, 0], W)
    else:
        ok = (w > 0) & (w <= W[:, None]) & (h > 0) & (h <= H[:, None])
        first = ok.to(torch.uint8).argmax(dim=1, keepdim=True)
        h = h.gather(1, first)[:, 0]
        w = w.gather(1, first)[:, 0]
        # fallback: centre crop, aspect ratio clamped into the range
        aspect = W / H
        fb_w = torch.where(aspect < ratio[0], W,
                           torch.where(aspect > ratio[1],
                                       torch.round(H * ratio[1]), W))
        fb_h = torch.where(aspect < ratio[0], torch.round(W / ratio[0]),
                           H)
        fallback = ~ok.any(dim=1)
        h = torch.where(fallback, fb_h, h)
        w = torch.where(fallback, fb_w, w)
    u = torch.rand((n, 2), generator=generator, device=device).double()
    top = torch.floor(u[:, 0] * (H - h + 1)).clamp(max=H - h)
    left = torch.floor(u[:, 1] * (W - w + 1)).clamp(max=W - w)
    if convention == 'torchvision':
        top = torch.where(fallback, torch.floor((H - h) / 2), top)
        left = torch.where(fallback, torch.floor((W - w) / 2), left)
    return torch.stack([top, left, h, w], dim=1).long()


def _as_sizes(size: Union[int, torch.Tensor], n: int) -> torch.Tensor:
    if isinstance(size, torch.Tensor):
        return size.reshape(-1).expand(n) if size.numel() == 1 else size
    return torch.full((n, ), int(size), dtype=torch.long)


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
        generator (torch.Generator, optional): draws happen on its device.
        device: where the draws happen without a generator (default CPU).

    Returns:
        ViewParams: on the generator's (or ``device``'s) device.
    """
    if generator is not None:
        device = generator.device
    device = torch.device(device or 'cpu')
    heights = _as_sizes(heights, n).to(device)
    widths = _as_sizes(widths, n).to(device)
    crop = sample_crop_boxes(heights, widths, spec.crop_area,
                             spec.crop_ratio, convention, generator)
    # one uniform per Bernoulli decision: flip, jitter, gray, blur, solarize
    coins = torch.rand((n, 5), generator=generator, device=device)
    order = torch.rand((n, 4), generator=generator,
                       device=device).argsort(dim=1)
    u = _uniform((n, 4), -1.0, 1.0, generator, device)
    span = torch.tensor([spec.brightness, spec.contrast, spec.saturation,
                         spec.hue], device=device)
    factors = u * span
    if convention == 'torchvision':
        factors[:, BRIGHTNESS] += 1.0
    factors[:, CONTRAST] += 1.0
    factors[:, SATURATION] += 1.0
    sigma = _uniform((n, ), spec.blur_sigma[0], spec.blur_sigma[1],
                     generator, device)
    return ViewParams(
        crop=crop,
        flip=coins[:, 0] < spec.flip_prob,
        jitter=coins[:, 1] < spec.jitter_prob,
        order=order,
        factors=factors,
        gray=coins[:, 2] < spec.gray_prob,
        blur=coins[:, 3] < spec.blur_prob,
        sigma=sigma,
        solarize=coins[:, 4] < spec.solarize_prob)
