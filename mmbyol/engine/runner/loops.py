"""MMEngine's train loops, resumable in the middle of an epoch.

On resume MMEngine's ``EpochBasedTrainLoop`` trains the interrupted epoch
again from its first batch, and ``IterBasedTrainLoop`` loads and discards
every batch already trained (and so draws their augmentations).  These
subclasses instead put the sampler at the first untrained sample (see
:class:`~mmbyol.engine.runner.sampler.ResumableSampler`) and put back the
global random states saved with the checkpoint right before the first
resumed batch.  Without a resume they behave exactly like MMEngine's.
"""
import logging
from typing import Optional

from mmengine.logging import print_log
from mmengine.runner import EpochBasedTrainLoop, IterBasedTrainLoop

from mmbyol.registry import LOOPS
from .rng_state import restore_rng_state
from .sampler import ResumableSampler


class _ResumeMixin:
    _resume_state: Optional[dict] = None

    def set_resume_state(self, state: Optional[dict]) -> None:
        """Called by :class:`ReliableRunner` after loading a checkpoint."""
        self._resume_state = state
        sampler = self.dataloader.sampler
        if state and isinstance(sampler, ResumableSampler):
            sampler.seed = state.get('sampler_seed', sampler.seed)

    def _seek(self, batches_done: int) -> None:
        """Skip ``batches_done`` batches of the sampler's current epoch and
        restore the saved random states (once)."""
        sampler = self.dataloader.sampler
        if batches_done > 0:
            if isinstance(sampler, ResumableSampler):
                sampler.skip_next(batches_done *
                                  self.dataloader.batch_sampler.batch_size)
            else:
                print_log(
                    f'{type(sampler).__name__} cannot start mid-epoch: the '
                    f'first {batches_done} batches of this epoch are '
                    'trained again', logger='current', level=logging.WARNING)
        if self._resume_state is not None:
            rng = self._resume_state.get('rng')
            if rng is not None:
                restore_rng_state(rng)
            self._resume_state = None


@LOOPS.register_module()
class ResumableEpochBasedTrainLoop(_ResumeMixin, EpochBasedTrainLoop):
    """``EpochBasedTrainLoop`` that resumes inside an epoch."""

    def run_epoch(self) -> None:
        self.runner.call_hook('before_train_epoch')
        self.runner.model.train()
        if hasattr(self.dataloader.sampler, 'set_epoch'):
            self.dataloader.sampler.set_epoch(self._epoch)
        length = len(self.dataloader)
        done = min(max(self._iter - self._epoch * length, 0), length)
        self._seek(done)
        for idx, data_batch in enumerate(self.dataloader, start=done):
            self.run_iter(idx, data_batch)
        self.runner.call_hook('after_train_epoch')
        self._epoch += 1


class _EpochIterator:
    """Iterates the data loader forever, moving the sampler's epoch on."""

    def __init__(self, dataloader, epoch: int) -> None:
        self.dataloader = dataloader
        self.epoch = epoch
        self._iterator = iter(dataloader)

    def __iter__(self):
        return self

    def __next__(self):
        try:
            return next(self._iterator)
        except StopIteration:
            self.epoch += 1
            if hasattr(self.dataloader.sampler, 'set_epoch'):
                self.dataloader.sampler.set_epoch(self.epoch)
            self._iterator = iter(self.dataloader)
            return next(self._iterator)


@LOOPS.register_module()
class ResumableIterBasedTrainLoop(_ResumeMixin, IterBasedTrainLoop):
    """``IterBasedTrainLoop`` that resumes without replaying batches."""

    def run(self):
        self.runner.call_hook('before_train')
        self.runner.call_hook('before_train_epoch')
        epoch, done = divmod(self._iter, len(self.dataloader))
        if hasattr(self.dataloader.sampler, 'set_epoch'):
            self.dataloader.sampler.set_epoch(epoch)
        self._seek(done)
        self.dataloader_iterator = _EpochIterator(self.dataloader, epoch)
        while self._iter < self._max_iters and not self.stop_training:
            self.runner.model.train()
            self.run_iter(next(self.dataloader_iterator))
            self._decide_current_val_interval()
            if (self.runner.val_loop is not None
                    and self._iter >= self.val_begin
                    and (self._iter % self.val_interval == 0
                         or self._iter == self._max_iters)):
                self.runner.val_loop.run()
        self.runner.call_hook('after_train_epoch')
        self.runner.call_hook('after_train')
        return self.runner.model
