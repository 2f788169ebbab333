from .byol_momentum_hook import BYOLMomentumHook
from .channels_last_hook import ChannelsLastHook
from .health_hook import BYOLHealthHook
from .knn_hook import KNNHook
from .skipped_images_hook import SkippedImagesHook

__all__ = ['BYOLMomentumHook', 'BYOLHealthHook', 'ChannelsLastHook',
           'KNNHook', 'SkippedImagesHook']
