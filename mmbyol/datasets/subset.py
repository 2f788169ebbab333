"""A seeded, class-balanced share of a labelled data set."""
from typing import Optional, Union

import numpy as np
from mmengine.dataset import BaseDataset

from mmbyol.registry import DATASETS
from mmbyol.utils.errors import ConfigError


@DATASETS.register_module()
class ClassBalancedSubset:
    """The same share of every class of ``dataset``, drawn with a seed.

    For semi-supervised fine-tuning on 1% or 10% of the labels of any
    labelled data set (a class-folder tree, MMPretrain's ``CIFAR10``):
    ``round(fraction * n_c)`` images of each class ``c`` (at least one),
    the same ones for the same seed.

    Args:
        dataset (dict | BaseDataset): the labelled data set.
        fraction (float): share of each class, in (0, 1].
        seed (int): seed of the draw. Defaults to 0.
    """

    def __init__(self, dataset: Union[dict, BaseDataset], fraction: float,
                 seed: Optional[int] = 0) -> None:
        if not 0 < fraction <= 1:
            raise ConfigError(f'ClassBalancedSubset: fraction={fraction!r} '
                              'must lie in (0, 1]')
        self.dataset = (DATASETS.build(dataset) if isinstance(dataset, dict)
                        else dataset)
        labels = np.array([
            int(self.dataset.get_data_info(i)['gt_label'])
            for i in range(len(self.dataset))
        ])
        rng = np.random.default_rng(seed)
        chosen = []
        for label in np.unique(labels):
            members = np.flatnonzero(labels == label)
            count = max(1, round(fraction * len(members)))
            chosen.extend(rng.choice(members, count, replace=False))
        self.indices = sorted(int(i) for i in chosen)
        self.fraction, self.seed = fraction, seed

    @property
    def metainfo(self) -> dict:
        return self.dataset.metainfo

    def __len__(self) -> int:
        return len(self.indices)

    def get_data_info(self, idx: int) -> dict:
        return self.dataset.get_data_info(self.indices[idx])

    def __getitem__(self, idx: int):
        return self.dataset[self.indices[idx]]
