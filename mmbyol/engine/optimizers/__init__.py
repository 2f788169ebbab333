from .byol_constructor import BYOLOptimWrapperConstructor

__all__ = ['BYOLOptimWrapperConstructor', 'FusedLARS']
from .lars import FusedLARS
