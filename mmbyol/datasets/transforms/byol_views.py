"""The CPU side of BYOL's views: both views of one image in a worker."""
from typing import Optional, Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from PIL import Image

from mmbyol.augmentations import (BYOL_T, BYOL_T_PRIME, CONVENTIONS,
                                  ViewSpec, apply_photometric,
                                  sample_view_params)
from mmbyol.registry import TRANSFORMS

_RESAMPLE = {'bicubic': Image.BICUBIC, 'bilinear': Image.BILINEAR}


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


@TRANSFORMS.register_module()
class BYOLViews(BaseTransform):
    """Turn ``results['img']`` (RGB uint8) into the two views ``[t, t']``.

    Per view, one call of :func:`~mmbyol.augmentations.sample_view_params`
    draws the crop box, flip and colour parameters; the crop is resized
    with PIL (anti-aliased, bicubic by default as in the paper) and, with
    ``photometric=True``, colour jitter, grayscale, blur and solarize follow
    (the same tensor ops the device path runs batched). With
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
        if interpolation not in _RESAMPLE:
            raise ValueError(f'interpolation must be one of '
                             f'{tuple(_RESAMPLE)}, got {interpolation!r}')
        self.size = size
        self.photometric = photometric
        self.convention = convention
        self.specs = build_view_specs(view_specs)
        self.resample = _RESAMPLE[interpolation]

    def _view(self, pil: Image.Image, spec: ViewSpec) -> np.ndarray:
        params = sample_view_params(1, spec, pil.height, pil.width,
                                    self.convention)
        top, left, h, w = params.crop[0].tolist()
        view = pil.resize((self.size, self.size), self.resample,
                          box=(left, top, left + w, top + h))
        if params.flip[0]:
            view = view.transpose(Image.FLIP_LEFT_RIGHT)
        arr = np.array(view)  # a writable copy
        if not self.photometric:
            return arr
        x = torch.from_numpy(arr).permute(2, 0, 1)[None]
        x = apply_photometric(x.float().div_(255), params, self.convention)
        x = x[0].mul_(255).round_().to(torch.uint8).permute(1, 2, 0)
        return np.ascontiguousarray(x.numpy())

    def transform(self, results: dict) -> dict:
        img = results['img']
        if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
            raise ValueError(
                f'BYOLViews needs an RGB uint8 (H, W, 3) image (use '
                f'LoadRGBImage), got {img.dtype} {img.shape} for '
                f'{results.get("img_path")}')
        pil = Image.fromarray(img)
        results['img'] = [self._view(pil, spec) for spec in self.specs]
        results['img_shape'] = (self.size, self.size)
        results['byol_photometric'] = self.photometric
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(size={self.size}, photometric='
                f'{self.photometric}, convention={self.convention!r})')
