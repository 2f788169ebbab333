from .byol import BYOL, pool_features

__all__ = ['BYOL', 'pool_features']
