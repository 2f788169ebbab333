from .byol_views import BYOLViews, build_view_specs, view_size
from .color_jitter import ColorJitter, shift_hue
from .loading import BadImageError, LoadRGBImage, pil_to_rgb, read_rgb

__all__ = [
    'BYOLViews', 'build_view_specs', 'BadImageError', 'ColorJitter',
    'LoadRGBImage', 'pil_to_rgb', 'read_rgb', 'shift_hue', 'view_size'
]
