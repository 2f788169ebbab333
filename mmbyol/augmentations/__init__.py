"""BYOL's view distributions T and T' (Grill et al., 2020, Table 6).

Pure tensor functions, no registry: the registered transforms live in
``mmbyol.datasets.transforms`` and the batched device path in
``mmbyol.models.data_preprocessors``. On CPU tensors
:func:`apply_photometric` runs the same ops fused per pixel
(:mod:`~mmbyol.augmentations.cpu_kernels`, numba).
"""
from .blur import (blur_kernel_size, blur_radius, gaussian_blur,
                   gaussian_kernels)
from .color import (adjust_brightness, adjust_contrast, adjust_hue,
                    adjust_saturation, hsv_to_rgb, rgb_to_hsv, solarize,
                    to_gray)
from .cpu_kernels import cpu_kernels_enabled, use_cpu_kernels
from .geometry import hflip_where, resized_crop
from .params import (BYOL_T, BYOL_T_PRIME, CONVENTIONS, ViewParams, ViewSpec,
                     sample_view_params)
from .views import (apply_photometric, apply_photometric_uint8, augment_batch,
                    make_byol_views)

__all__ = [
    'BYOL_T', 'BYOL_T_PRIME', 'CONVENTIONS', 'ViewParams', 'ViewSpec',
    'sample_view_params', 'apply_photometric',
    'apply_photometric_uint8',
    'augment_batch', 'make_byol_views', 'blur_kernel_size', 'blur_radius',
    'gaussian_blur', 'gaussian_kernels', 'adjust_brightness',
    'adjust_contrast', 'adjust_hue',
    'adjust_saturation', 'hsv_to_rgb', 'rgb_to_hsv', 'solarize', 'to_gray',
    'hflip_where', 'resized_crop', 'cpu_kernels_enabled', 'use_cpu_kernels'
]
