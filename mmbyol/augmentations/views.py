"""The BYOL views of a batch: photometric ops with per-sample parameters.

:func:`apply_photometric` is shared by the CPU transform (a batch of one)
and the batched device path (mmbyol's data preprocessor); it applies, per
sample and in the paper's order: colour jitter with p 0.8 (the four ops in
that sample's random order), grayscale with p 0.2, Gaussian blur, solarize,
and a final clip to [0, 1]. There is a Python loop over the 4 x 4
(step, op) pairs of the random order, never over samples.

Which samples an op touches is decided on the host: the parameters are read
there (``tolist`` of a CPU tensor), and each op gathers and scatters its rows
with integer indices (``index_select`` / ``index_copy_``). A boolean mask on
the device would need ``nonzero``, whose output size the host must wait for:
one host-device sync per op, 19 per view. Sampled on the CPU (as
:class:`~mmbyol.models.BYOLDataPreprocessor` does), the parameters reach the
device with non-blocking copies and the views cost no sync at all.

On CPU float32 tensors the same ops run fused per pixel instead
(:mod:`~mmbyol.augmentations.cpu_kernels`), with the same results to 5e-6.
"""
from typing import Optional, Tuple

import torch

from .blur import blur_kernel_size, gaussian_blur
from .color import COLOR_OPS, solarize, to_gray
from .cpu_kernels import (cpu_kernels_enabled, photometric_,
                          photometric_uint8)
from .geometry import hflip_where, resized_crop
from .params import (BYOL_T, BYOL_T_PRIME, CONVENTIONS, ViewParams,
                     ViewSpec, sample_view_params)


def _rows(mask: torch.Tensor) -> list:
    """Indices of the True entries of a host (CPU) bool tensor."""
    return [i for i, m in enumerate(mask.tolist()) if m]


def _apply_to(x: torch.Tensor, rows: list, fn) -> torch.Tensor:
    """``x[rows] = fn(x[rows], index)`` in place, ``rows`` a host list."""
    if not rows:
        return x
    if len(rows) == x.shape[0]:
        return fn(x, slice(None))
    index = torch.tensor(rows).to(x.device, non_blocking=True)
    return x.index_copy_(0, index, fn(x.index_select(0, index), index))


def _apply_one(x: torch.Tensor, params: ViewParams, host: ViewParams,
               convention: str, taps: int) -> torch.Tensor:
    """:func:`apply_photometric` for a batch of one, same ops and order;
    the decisions are read from ``host``, the same parameters on the CPU."""
    if host.jitter.tolist()[0]:
        for op_index in host.order[0].tolist():
            x = COLOR_OPS[op_index](x, params.factors[0:1, op_index],
                                    convention)
    if host.gray.tolist()[0]:
        x = to_gray(x, convention).expand_as(x)
    if host.blur.tolist()[0]:
        padding = 'zeros' if convention == 'dm_exact' else 'reflect'
        x = gaussian_blur(x, params.sigma[0:1], taps, padding,
                          max_sigma=host.sigma.tolist()[0])
    if host.solarize.tolist()[0]:
        x = solarize(x)
    return x.clamp(0, 1)


def apply_photometric(x: torch.Tensor, params: ViewParams,
                      convention: str = 'torchvision') -> torch.Tensor:
    """Colour jitter, grayscale, blur and solarize of float ``(N, 3, H, W)``.

    Args:
        x: images in ``[0, 1]``, already cropped and flipped.
        params: their :class:`ViewParams` (on ``x``'s device).
        convention: ``'torchvision'`` or ``'dm_exact'``.

    The blur kernel has :func:`blur_kernel_size` taps of the image height
    (23 at 224).
    """
    if convention not in CONVENTIONS:
        raise ValueError(f'convention must be one of {CONVENTIONS}, '
                         f'got {convention!r}')
    host = params.to('cpu')  # free when sampled on the host
    taps = blur_kernel_size(x.shape[-2])
    if x.device.type == 'cpu' and x.dtype == torch.float32 and \
            not x.requires_grad and cpu_kernels_enabled():  # fused per pixel
        x = x.clone(memory_format=torch.contiguous_format)  # private copy
        photometric_(x, host, convention, taps)
        return x
    params = params.to(x.device, non_blocking=True)
    # a private copy: the ops below write into it in place
    x = x.float() if not x.is_floating_point() else x.clone()
    if x.shape[0] == 1:  # one image (CPU workers): no indices at all
        return _apply_one(x, params, host, convention, taps)
    for step in range(4):
        for op_index, op in enumerate(COLOR_OPS):
            rows = _rows(host.jitter & (host.order[:, step] == op_index))
            x = _apply_to(
                x, rows, lambda sub, i, j=op_index, f=op: f(
                    sub, params.factors[i, j], convention))
    x = _apply_to(x, _rows(host.gray),
                  lambda sub, i: to_gray(sub, convention).expand_as(sub)
                  .contiguous())
    padding = 'zeros' if convention == 'dm_exact' else 'reflect'
    rows = _rows(host.blur)
    sigmas = host.sigma.tolist()
    x = _apply_to(x, rows,
                  lambda sub, i: gaussian_blur(
                      sub, params.sigma[i], taps, padding,
                      max_sigma=max(sigmas[r] for r in rows)))
    x = _apply_to(x, _rows(host.solarize), lambda sub, i: solarize(sub))
    return x.clamp_(0, 1)


def apply_photometric_uint8(view: torch.Tensor, params: ViewParams,
                            convention: str = 'torchvision') -> torch.Tensor:
    """:func:`apply_photometric` of uint8 views ``(N, 3, H, W)`` (0-255),
    rounded back to uint8, as the CPU workers' ``BYOLViews`` needs them.

    On a CPU with the fused kernels, one pass reads the pixels and one
    writes them back (channels-last); elsewhere it is
    ``round(255 * apply_photometric(view / 255))``.
    """
    if view.device.type == 'cpu' and cpu_kernels_enabled():
        return photometric_uint8(view, params.to('cpu'), convention,
                                 blur_kernel_size(view.shape[-2]))
    x = apply_photometric(view.float().div_(255), params, convention)
    return x.mul_(255).round_().to(torch.uint8)


def _as_float_rgb(images: torch.Tensor) -> torch.Tensor:
    if images.dim() != 4 or images.shape[1] not in (1, 3):
        raise ValueError('images must be (N, C, H, W) with C = 1 or 3, got '
                         f'shape {tuple(images.shape)}')
    x = images.float() / 255 if images.dtype == torch.uint8 else \
        images.float()
    return x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x


def augment_batch(images: torch.Tensor, image_size: int,
                  spec: ViewSpec = BYOL_T,
                  convention: str = 'torchvision',
                  generator: Optional[torch.Generator] = None,
                  interpolation: str = 'bicubic') -> torch.Tensor:
    """One view of every image: crop, flip, then :func:`apply_photometric`."""
    x = _as_float_rgb(images)
    n, _, h, w = x.shape
    params = sample_view_params(n, spec, h, w, convention, generator,
                                device=x.device).to(x.device)
    x = resized_crop(x, params.crop, image_size, interpolation)
    x = hflip_where(x, params.flip)
    return apply_photometric(x, params, convention)


def make_byol_views(images: torch.Tensor,
                    image_size: int,
                    convention: str = 'torchvision',
                    generator: Optional[torch.Generator] = None,
                    *,
                    interpolation: str = 'bicubic',
                    specs: Tuple[ViewSpec, ViewSpec] = (BYOL_T, BYOL_T_PRIME)
                    ) -> Tuple[torch.Tensor, torch.Tensor]:
    """The two BYOL views ``(t(x), t'(x))`` of a batch, on its own device.

    Per-sample random resized crop (area 0.08-1, log-aspect 3/4-4/3), flip
    p 0.5, colour jitter p 0.8 (brightness 0.4, contrast 0.4, saturation
    0.2, hue 0.1, random order), grayscale p 0.2, Gaussian blur (sigma in
    [0.1, 2], p 1.0 for view 1 and 0.1 for view 2), solarize (p 0 / 0.2):
    Grill et al. (2020), Table 6.

    Args:
        images: ``(N, C, H, W)``, C = 1 or 3, uint8 or float in [0, 1],
            on any device.
        image_size: side of the square views.
        convention: ``'torchvision'`` or ``'dm_exact'`` (see
            ``docs/augmentations.md``).
        generator: optional ``torch.Generator``; its device must be the
            images' device or the CPU.
        interpolation: ``'bicubic'`` (paper) or ``'bilinear'``
            (anti-aliased, better for crops much larger than the view).
        specs: the two view distributions, default ``(T, T')``.

    Returns:
        (view1, view2): float ``(N, 3, image_size, image_size)`` in [0, 1]
        on the images' device.
    """
    return tuple(
        augment_batch(images, image_size, spec, convention, generator,
                      interpolation) for spec in specs)
