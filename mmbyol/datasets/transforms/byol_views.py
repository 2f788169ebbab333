"""The CPU side of BYOL's views: both views of one image in a worker."""
from typing import Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from mmcv.transforms import BaseTransform

from mmbyol.augmentations import (BYOL_T, BYOL_T_PRIME, CONVENTIONS,
                                  ViewSpec, apply_photometric_uint8,
                                  sample_view_params)
from mmbyol.registry import TRANSFORMS

INTERPOLATIONS = ('bicubic', 'bilinear')


def build_view_specs(view_specs: Optional[Sequence[dict]]) -> tuple:
    """``(T, T')`` with each dict's fields replaced, e.g. ``blur_prob``."""
    if view_specs is None:
        return (BYOL_T, BYOL_T_PRIME)
    base = (BYOL_T, BYOL_T_PRIME)
    if len(view_specs) != 2:
        raise ValueError('view_specs needs two dicts (T, T\'), got '
                         f'{len(view_specs)}')
    return tuple(
        s if isinstance(s, ViewSpec) else b.replace(**dict(s))
        for b, s in zip(base, view_specs))


def view_size(pipeline: Sequence[dict], default: int = 224) -> int:
    """The view side a train pipeline crops to: the first integer ``size``
    or ``scale`` of its transforms (``BYOLViews(size=32)``)."""
    for t in pipeline:
        for key in ('size', 'scale'):
            if isinstance(t.get(key), int):
                return t[key]
    return default


@TRANSFORMS.register_module()
class BYOLViews(BaseTransform):
    """Turn ``results['img']`` (RGB uint8) into the two views ``[t, t']``.

    Per view, one call of :func:`~mmbyol.augmentations.sample_view_params`
    draws the crop box, flip and colour parameters; the crop is resized
    with PyTorch's anti-aliased uint8 kernel (bicubic by default, as in the
    paper; the same filters as PIL's ``Image.resize``, within 2 grey
    levels) and, with
    ``photometric=True``, colour jitter, grayscale, blur and solarize follow
    (:func:`~mmbyol.augmentations.apply_photometric_uint8`, the ops of the
    device path; on a CPU its fused kernels). With
    ``photometric=False`` the worker only decodes, crops and flips, and
    :class:`~mmbyol.models.BYOLDataPreprocessor` (``augment_on_device=True``)
    does the rest on the model's device.

    Args:
        size (int): side of the square views. Default 224.
        photometric (bool): also apply the colour ops here. Default True.
        convention (str): ``'torchvision'`` or ``'dm_exact'``.
        view_specs (list[dict], optional): field overrides of ``T`` and
            ``T'`` (:class:`~mmbyol.augmentations.ViewSpec`).
        interpolation (str): ``'bicubic'`` or ``'bilinear'``.

    Sets ``img`` (list of two ``(size, size, 3)`` uint8 arrays),
    ``img_shape`` and ``byol_photometric`` (which the data preprocessor
    checks, so that the views are never colour-augmented twice or never).
    """

    def __init__(self, size: int = 224, photometric: bool = True,
                 convention: str = 'torchvision',
                 view_specs: Optional[Sequence[dict]] = None,
                 interpolation: str = 'bicubic') -> None:
        if convention not in CONVENTIONS:
            raise ValueError(f'convention must be one of {CONVENTIONS}, '
                             f'got {convention!r}')
        if interpolation not in INTERPOLATIONS:
            raise ValueError(f'interpolation must be one of '
                             f'{INTERPOLATIONS}, got {interpolation!r}')
        self.size = size
        self.photometric = photometric
        self.convention = convention
        self.specs = build_view_specs(view_specs)
        self.interpolation = interpolation
        self._compile_kernels()

    def _compile_kernels(self) -> None:
        """Run the numba kernels once on a tiny image, here in the process
        that builds the dataset: forked data-loader workers inherit them
        compiled instead of each compiling its own (seconds on a cold
        cache). A private generator leaves torch's global one untouched."""
        params = sample_view_params(1, self.specs[0], 8, 8, self.convention,
                                    generator=torch.Generator())
        if self.photometric:
            apply_photometric_uint8(torch.zeros((1, 3, 8, 8),
                                                dtype=torch.uint8), params,
                                    self.convention)

    def _view(self, img: torch.Tensor, spec: ViewSpec) -> np.ndarray:
        """One view of ``img``, a ``(1, 3, H, W)`` channels-last uint8."""
        _, _, height, width = img.shape
        params = sample_view_params(1, spec, height, width, self.convention)
        top, left, h, w = params.crop[0].tolist()
        # a dense channels-last crop takes PyTorch's vectorised uint8
        # kernel (a strided one does not) and gives an NHWC result
        crop = img[..., top:top + h, left:left + w].contiguous(
            memory_format=torch.channels_last)
        view = F.interpolate(crop, size=(self.size, self.size),
                             mode=self.interpolation, antialias=True)
        if params.flip.tolist()[0]:  # host values: never a dispatched op
            view = view.flip(-1)
        if self.photometric:
            view = apply_photometric_uint8(view, params, self.convention)
        return np.ascontiguousarray(view[0].permute(1, 2, 0).numpy())

    def transform(self, results: dict) -> dict:
        img = results['img']
        if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
            raise ValueError(
                f'BYOLViews needs an RGB uint8 (H, W, 3) image (use '
                f'LoadRGBImage), got {img.dtype} {img.shape} for '
                f'{results.get("img_path")}')
        if not (img.flags.c_contiguous and img.flags.writeable):
            img = np.array(img)  # e.g. a read-only or BGR-flipped view
        # (1, 3, H, W) over the same memory: channels-last, no copy
        nchw = torch.from_numpy(img).permute(2, 0, 1)[None]
        results['img'] = [self._view(nchw, spec) for spec in self.specs]
        results['img_shape'] = (self.size, self.size)
        results['byol_photometric'] = self.photometric
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(size={self.size}, photometric='
                f'{self.photometric}, convention={self.convention!r})')
