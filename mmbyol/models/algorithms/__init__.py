from .byol import BYOL

__all__ = ['BYOL']
