"""How ReliableRunner reads and writes checkpoints."""
import os
import os.path as osp
from typing import List, Optional

import torch
from mmengine.dist import (all_gather_object, get_dist_info, is_distributed,
                           is_main_process)
from mmengine.runner.checkpoint import _load_checkpoint_to_model

from mmbyol.utils.errors import MMBYOLError
from mmbyol.utils.safe_load import (UnreadableCheckpointError,
                                    UnsafeCheckpointError,
                                    load_checkpoint_safely)
from .checkpoint_files import (TEMPORARY_SUFFIX, checkpoints_by_progress,
                               read_pointer)
from .checkpoint_fit import (CheckpointMismatchError, check_fits,
                             check_resumable)
from .rng_state import capture_rng_state


class CheckpointSaveError(MMBYOLError):
    """A checkpoint could not be written (e.g. the disk is full)."""


class CheckpointIO:
    """The checkpoint methods of :class:`ReliableRunner`, over MMEngine's
    ``Runner``: safe and strict loading, exact resume, atomic saves that
    never write non-finite weights (see the runner's docstring)."""

    _loaded_meta: dict = {}
    _resuming: bool = False

    def _non_finite(self) -> List[str]:
        """Names of the model's floating-point tensors holding NaN/inf."""
        state = self._unwrapped().state_dict()
        names = [k for k, v in state.items() if v.is_floating_point()]
        if not names:
            return []
        finite = torch.stack([state[k].isfinite().all() for k in names])
        return [k for k, ok in zip(names, finite.tolist()) if not ok]

    def save_checkpoint(self, out_dir: str, filename: str,
                        file_client_args: Optional[dict] = None,
                        save_optimizer: bool = True,
                        save_param_scheduler: bool = True,
                        meta: Optional[dict] = None,
                        by_epoch: bool = True,
                        backend_args: Optional[dict] = None) -> bool:
        """MMEngine's save plus ``meta['resume_state']``, written to
        ``filename + '.tmp'``, fsynced and renamed (local files).  Call it
        on every rank (the random states are gathered).

        Returns:
            bool: False when nothing was written because the model holds
            non-finite weights or statistics (the last checkpoint is then
            still the last good one).

        Raises:
            CheckpointSaveError: the file could not be written (e.g. a
                full disk); no temporary file is left behind.
        """
        meta = dict(meta or {})
        rng = capture_rng_state()
        rngs = all_gather_object(rng) if is_distributed() else [rng]
        sampler = getattr(getattr(self._train_loop, 'dataloader', None),
                          'sampler', None)
        meta['resume_state'] = dict(
            rng=rngs, sampler_seed=getattr(sampler, 'seed', None))
        if not is_main_process():
            return True
        path = osp.join(out_dir, filename)
        bad = self._non_finite()
        if bad:
            self.logger.warning(
                f'not saving {path}: {len(bad)} weights or statistics are '
                f'not finite (e.g. {bad[0]}); the last good checkpoint is '
                f'{read_pointer(self.work_dir) or "none yet"}')
            return False
        local = (file_client_args is None and backend_args is None
                 and '://' not in out_dir)
        name = f'{filename}{TEMPORARY_SUFFIX}' if local else filename
        tmp = osp.join(out_dir, name)
        # MMEngine puts the config's text into every checkpoint, formatted
        # by yapf, which keeps about 0.3 MB per call that never comes back:
        # the checkpoint keeps the same text unformatted.
        formatted = self.cfg._format_python_code
        object.__setattr__(self.cfg, '_format_python_code', False)
        try:
            super().save_checkpoint(out_dir, name, file_client_args,
                                    save_optimizer, save_param_scheduler,
                                    meta, by_epoch, backend_args)
            if local:
                with open(tmp, 'rb') as f:
                    os.fsync(f.fileno())
                os.replace(tmp, path)
                dir_fd = os.open(out_dir, os.O_RDONLY)
                try:
                    os.fsync(dir_fd)
                finally:
                    os.close(dir_fd)
        except BaseException as err:
            if local and osp.exists(tmp):
                os.remove(tmp)
            if not isinstance(err, OSError):
                raise
            raise CheckpointSaveError(
                f'could not write checkpoint {path}: {err.strerror or err}; '
                'the last good checkpoint is '
                f'{read_pointer(self.work_dir) or "none yet"}. Free space '
                '(a save needs room for one more checkpoint), then continue '
                'with --resume') from err
        finally:
            object.__setattr__(self.cfg, '_format_python_code', formatted)
        return True

    def load_checkpoint(self, filename: str, map_location='cpu',
                        strict: bool = False,
                        revise_keys: list = [(r'^module.', '')]):
        """MMEngine's, reading the file with ``weights_only=True`` and
        refusing a checkpoint that does not fit the model (see the class
        docstring)."""
        if osp.isdir(filename):
            raise UnreadableCheckpointError(
                f'{filename} is a directory: give a checkpoint file, or '
                '--resume with no value to continue from the furthest '
                'checkpoint of the work dir')
        checkpoint = load_checkpoint_safely(filename, map_location)
        if not isinstance(checkpoint, dict):
            raise CheckpointMismatchError(
                f'{filename} holds a {type(checkpoint).__name__}, not a '
                'checkpoint dict')
        if self._resuming:
            check_resumable(filename, checkpoint)
        check_fits(self._unwrapped(), filename, checkpoint, revise_keys,
                   partial=self.cfg.get('load_partial', False) and
                   not self._resuming,
                   warn=self.logger.warning)
        self._loaded_meta = checkpoint.get('meta', {})
        self.call_hook('after_load_checkpoint', checkpoint=checkpoint)
        checkpoint = _load_checkpoint_to_model(
            self._unwrapped(), checkpoint, strict, revise_keys=revise_keys)
        self._has_loaded = True
        self.logger.info(f'Load checkpoint from {filename}')
        return checkpoint

    def resume(self, filename: str, resume_optimizer: bool = True,
               resume_param_scheduler: bool = True,
               map_location='default') -> None:
        self._resuming = True
        try:
            super().resume(filename, resume_optimizer,
                           resume_param_scheduler, map_location)
        finally:
            self._resuming = False
        state = self._loaded_meta.get('resume_state')
        if state is None:
            self.logger.warning(
                f'{filename} has no resume_state (not saved by '
                'ReliableRunner): random streams restart, not continue')
            return
        rank, world_size = get_dist_info()
        rngs = state.get('rng') or [None]
        if len(rngs) != world_size:
            self.logger.warning(
                f'checkpoint saved by {len(rngs)} processes, resumed by '
                f'{world_size}: every rank takes rank 0\'s random state')
        loop = self.train_loop
        if hasattr(loop, 'set_resume_state'):
            loop.set_resume_state(dict(
                rng=rngs[rank] if len(rngs) == world_size else rngs[0],
                sampler_seed=state.get('sampler_seed')))

    def resume_candidates(self) -> List[str]:
        """The work dir's ``epoch_*.pth``/``iter_*.pth``, furthest training
        progress first (never by modification time)."""
        try:
            per_epoch = len(self.train_loop.dataloader)
        except TypeError:
            per_epoch = None
        return checkpoints_by_progress(self.work_dir, per_epoch)

    def load_or_resume(self) -> None:
        for path in self._removed_temporaries:
            self.logger.warning(f'removed {path}, left by a save that did '
                                'not finish')
        self._removed_temporaries = []
        if self._has_loaded or not (self._resume and self._load_from is None):
            return super().load_or_resume()
        for path in self.resume_candidates():
            try:
                self.resume(path)
            except UnsafeCheckpointError:
                raise
            except UnreadableCheckpointError as err:
                self.logger.warning(f'--resume: skipping {path}: {err}')
                continue
            self.logger.info(f'Resumed from {path}')
            return
        self.logger.info(f'No checkpoint to resume in {self.work_dir}: '
                         'training from the start')
