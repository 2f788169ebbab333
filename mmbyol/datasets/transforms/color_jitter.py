"""MMPretrain's ColorJitter, with a hue shift that works under numpy 2."""
from typing import Dict

import cv2
import mmcv
import numpy as np
from mmpretrain.datasets.transforms import ColorJitter as _MMPretrainJitter

from mmbyol.registry import TRANSFORMS


def shift_hue(img: np.ndarray, hue_factor: float) -> np.ndarray:
    """Rotate the hue of a BGR uint8 image by ``hue_factor`` of a turn
    (in [-0.5, 0.5]), as ``mmcv.adjust_hue`` does.

    mmcv casts a negative shift straight to ``np.uint8``, which numpy 2
    refuses with ``OverflowError``; the shift is taken modulo 256 here.
    """
    if not -0.5 <= hue_factor <= 0.5:
        raise ValueError(f'hue_factor={hue_factor} is not in [-0.5, 0.5]')
    hsv = cv2.cvtColor(img.astype(np.uint8), cv2.COLOR_BGR2HSV_FULL)
    hsv[..., 0] += np.uint8(int(hue_factor * 255) % 256)  # wraps around
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR_FULL).astype(img.dtype)


@TRANSFORMS.register_module()
class ColorJitter(_MMPretrainJitter):
    """MMPretrain's ``ColorJitter`` (same arguments, parameters and order of
    operations) whose hue jitter works under numpy 2, where MMPretrain's
    raises ``OverflowError`` for every negative hue shift. Registered under
    the same name, so in mmbyol's scope every config that names
    ``ColorJitter`` (MMPretrain's BYOL recipe included) gets this one."""

    def transform(self, results: Dict) -> Dict:
        img = results['img']
        order, brightness, contrast, saturation, hue = self._rand_params()
        for index in order:
            if index == 0 and brightness is not None:
                img = mmcv.adjust_brightness(img, brightness,
                                             backend=self.backend)
            elif index == 1 and contrast is not None:
                img = mmcv.adjust_contrast(img, contrast,
                                           backend=self.backend)
            elif index == 2 and saturation is not None:
                img = mmcv.adjust_color(img, alpha=saturation,
                                        backend=self.backend)
            elif index == 3 and hue is not None:
                img = shift_hue(img, hue)
        results['img'] = img
        return results
