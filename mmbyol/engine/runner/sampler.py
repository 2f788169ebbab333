"""A sampler that can start in the middle of an epoch, and per-sample seeds.

Exact resumption needs two things MMEngine's data path lacks:

* **the sampler position**: :class:`ResumableSampler` can skip the samples
  of the batches already trained in the current epoch (MMEngine's loops
  either restart the epoch or load and discard every skipped batch);
* **augmentations that do not depend on worker history**: MMEngine seeds
  each data-loader worker once, with ``seed + worker_id``, so what a sample
  draws depends on which worker gets it and on everything that worker did
  before; after a mid-epoch restart the workers start fresh and draw other
  crops.  :class:`ResumableSampler` therefore yields ``(index, seed)`` keys
  and :class:`PerSampleSeeded` runs each sample's pipeline with Python's,
  numpy's and torch's global generators seeded with

  .. math:: s = \\mathrm{SeedSequence}(\\text{seed}, \\text{epoch},
     \\text{index})

  (and restores them afterwards), so every augmentation is a pure function
  of (seed, epoch, index): identical for any ``num_workers``, any
  ``persistent_workers``, any restart, and any number of ranks.
"""
import random
from contextlib import contextmanager
from typing import Iterator, Sized, Tuple, Union

import numpy as np
import torch
from mmengine.dataset import DefaultSampler
from torch.utils.data import Dataset

from mmbyol.registry import DATA_SAMPLERS


def sample_seed(seed: int, epoch: int, index: int) -> int:
    """The seed of one sample's augmentations in one epoch."""
    state = np.random.SeedSequence([seed % 2**32, epoch, index])
    return int(state.generate_state(1, np.uint32)[0])


@contextmanager
def seeded_global_rngs(seed: int):
    """Seed Python's, numpy's and torch's (CPU) global generators, and put
    their previous states back afterwards."""
    py_state, np_state = random.getstate(), np.random.get_state()
    torch_state = torch.get_rng_state()
    random.seed(seed)
    np.random.seed(seed)
    torch.default_generator.manual_seed(seed)
    try:
        yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
        torch.set_rng_state(torch_state)


class PerSampleSeeded(Dataset):
    """Wraps a dataset so that a ``(index, seed)`` key runs ``dataset[index]``
    under :func:`seeded_global_rngs`; a plain ``int`` key is passed through.

    Attributes other than ``dataset`` are forwarded (``metainfo``, ...).
    """

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, key: Union[int, Tuple[int, int]]):
        if isinstance(key, tuple):
            index, seed = key
            with seeded_global_rngs(seed):
                return self.dataset[index]
        return self.dataset[key]

    def __getattr__(self, name: str):
        if name == 'dataset':  # not set yet (unpickling in a worker)
            raise AttributeError(name)
        return getattr(self.dataset, name)


@DATA_SAMPLERS.register_module()
class ResumableSampler(DefaultSampler):
    """:class:`~mmengine.dataset.DefaultSampler` (same order, same sharding)
    that can skip the start of an epoch and yields per-sample seeds.

    Args:
        dataset (Sized): the dataset, wrapped in :class:`PerSampleSeeded`.
        shuffle (bool): as DefaultSampler. Defaults to True.
        seed (int, optional): as DefaultSampler.
        round_up (bool): as DefaultSampler. Defaults to True.
    """

    def __init__(self,
                 dataset: Sized,
                 shuffle: bool = True,
                 seed=None,
                 round_up: bool = True) -> None:
        super().__init__(dataset, shuffle=shuffle, seed=seed,
                         round_up=round_up)
        self._skip = 0

    def skip_next(self, num_samples: int) -> None:
        """Start the next pass ``num_samples`` (this rank's) into the epoch."""
        self._skip = int(num_samples)

    def __iter__(self) -> Iterator:
        indices = list(super().__iter__())[self._skip:]
        self._skip = 0
        return iter([(i, sample_seed(self.seed, self.epoch, i))
                     for i in indices])
