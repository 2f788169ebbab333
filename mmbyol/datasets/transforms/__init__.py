from .byol_views import BYOLViews, build_view_specs, view_size
from .loading import BadImageError, LoadRGBImage, pil_to_rgb, read_rgb

__all__ = [
    'BYOLViews', 'build_view_specs', 'BadImageError', 'LoadRGBImage',
    'pil_to_rgb', 'read_rgb', 'view_size'
]
