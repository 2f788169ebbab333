from .byol_momentum_hook import BYOLMomentumHook
from .health_hook import BYOLHealthHook
from .knn_hook import KNNHook

__all__ = ['BYOLMomentumHook', 'BYOLHealthHook', 'KNNHook']
