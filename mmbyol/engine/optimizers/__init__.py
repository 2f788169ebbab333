from .byol_constructor import BYOLOptimWrapperConstructor

__all__ = ['BYOLOptimWrapperConstructor']
