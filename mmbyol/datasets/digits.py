from typing import List

import numpy as np
from mmpretrain.datasets import BaseDataset

from mmbyol.registry import DATASETS
from mmbyol.utils.errors import ConfigError


@DATASETS.register_module()
class DigitsDataset(BaseDataset):
    """scikit-learn's bundled handwritten digits as a small image data set.

    1,797 real scans of handwritten digits (UCI "Optical Recognition of
    Handwritten Digits", 8x8 pixels, 17 grey levels), shipped inside the
    scikit-learn wheel: mmbyol's embedded default, so ``make demo`` runs with
    no data and no network.  Images are upsampled to ``image_size`` and
    given three identical channels; each item carries its label.

    Args:
        split (str): ``'train'``, ``'test'`` (a seeded, class-stratified
            ``test_fraction`` of every digit, never trained on) or ``'all'``.
        image_size (int): side of the returned images. Defaults to 32.
        test_fraction (float): held-out share per class. Defaults to 0.3.
        seed (int): seed of the split. Defaults to 0.
        **kwargs: :class:`mmpretrain.datasets.BaseDataset` arguments
            (``pipeline``, ``test_mode``, ...).
    """

    METAINFO = {'classes': tuple(str(d) for d in range(10))}

    def __init__(self,
                 split: str = 'train',
                 image_size: int = 32,
                 test_fraction: float = 0.3,
                 seed: int = 0,
                 **kwargs) -> None:
        if split not in ('train', 'test', 'all'):
            raise ConfigError(f"DigitsDataset: split must be 'train', 'test' "
                              f"or 'all', got {split!r}")
        if isinstance(image_size, bool) or not isinstance(
                image_size, int) or image_size < 1:
            raise ConfigError(f'DigitsDataset: image_size={image_size!r} '
                              'must be a positive integer')
        if not 0 < test_fraction < 1:
            raise ConfigError(f'DigitsDataset: test_fraction={test_fraction!r}'
                              ' must lie strictly between 0 and 1')
        self.split = split
        self.image_size = image_size
        self.test_fraction = test_fraction
        self.seed = seed
        super().__init__(ann_file='', **kwargs)

    def _split_indices(self, labels: np.ndarray) -> np.ndarray:
        if self.split == 'all':
            return np.arange(len(labels))
        rng = np.random.default_rng(self.seed)
        test = []
        for c in np.unique(labels):
            members = rng.permutation(np.flatnonzero(labels == c))
            test.extend(members[:round(len(members) * self.test_fraction)])
        is_test = np.zeros(len(labels), dtype=bool)
        is_test[test] = True
        return np.flatnonzero(is_test if self.split == 'test' else ~is_test)

    def load_data_list(self) -> List[dict]:
        import torch
        import torch.nn.functional as F
        from sklearn.datasets import load_digits

        digits = load_digits()
        images = torch.from_numpy(digits.images).float()[:, None] / 16.0
        images = F.interpolate(
            images, size=(self.image_size, self.image_size),
            mode='bilinear', align_corners=False)
        images = (images.clamp(0, 1) * 255).round().to(torch.uint8)
        images = images.expand(-1, 3, -1, -1).permute(0, 2, 3, 1).numpy()
        return [
            dict(img=np.ascontiguousarray(images[i]),
                 gt_label=int(digits.target[i]))
            for i in self._split_indices(digits.target)
        ]
