import os.path as osp
import time
from typing import Optional

import torch
import torch.distributed as torch_dist
from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook

from mmbyol.registry import HOOKS
from mmbyol.utils.errors import ConfigError
from .checkpoint_files import atomic_write_text
from .stop_signal import TrainingInterrupted


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """MMEngine's :class:`~mmengine.hooks.CheckpointHook`, crash-safe and
    preemption-safe.

    Same arguments and file names, plus ``interval_minutes``. Differences:

    * the new checkpoint is written first (atomically, by
      :meth:`ReliableRunner.save_checkpoint`, which refuses to write weights
      that are not finite), and only then are checkpoints beyond
      ``max_keep_ckpts`` deleted (MMEngine deletes first, so with
      ``max_keep_ckpts=1`` a kill during the save left nothing; this order
      needs room for one more checkpoint on disk);
    * ``last_checkpoint`` and the message hub's ``last_ckpt`` move only
      after a save succeeded, so they always name a complete, finite
      checkpoint;
    * after a SIGTERM or SIGINT (:class:`~.stop_signal.StopRequest`) the
      current iteration finishes, ``iter_N.pth`` is saved and training
      stops with :class:`~.stop_signal.TrainingInterrupted`;
    * with ``interval_minutes``, ``iter_N.pth`` is also saved whenever that
      much time has passed since the last save (for long epochs); only the
      newest of these extra checkpoints is kept.

    Ranks agree on both decisions through a CPU process group, so no rank
    saves alone and the device is never synchronised for it.
    :class:`ReliableRunner` uses this hook in place of ``CheckpointHook``.

    Args:
        interval_minutes (float, optional): also save every this many
            minutes of training. Defaults to None (off).
        **kwargs: :class:`~mmengine.hooks.CheckpointHook` arguments.
    """

    def __init__(self, *args, interval_minutes: Optional[float] = None,
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if interval_minutes is not None and not interval_minutes > 0:
            raise ConfigError(
                f'default_hooks.checkpoint.interval_minutes='
                f'{interval_minutes!r}: must be a positive number')
        self.interval_minutes = interval_minutes
        self._last_save = time.monotonic()
        self._extra: Optional[str] = None  # newest timed/interrupt save
        self._group = None

    # ----------------------------------------------------------- training
    def before_train(self, runner) -> None:
        super().before_train(runner)
        self._last_save = time.monotonic()
        if torch_dist.is_available() and torch_dist.is_initialized():
            self._group = (None if torch_dist.get_backend() == 'gloo' else
                           torch_dist.new_group(backend='gloo'))

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        super().after_train_iter(runner, batch_idx, data_batch, outputs)
        request = getattr(runner, 'stop_request', None)
        stop = bool(request is not None and request.signal)
        due = (self.interval_minutes is not None and
               time.monotonic() - self._last_save >=
               60 * self.interval_minutes)
        stop, due = self._agree(stop, due)
        if not (stop or due):
            return
        step = runner.iter + 1
        name = f'iter_{step}.pth'
        path = osp.join(self.out_dir, name)
        if self.last_ckpt != path:  # not saved by the interval above
            if self._save(runner, name, dict(epoch=runner.epoch, iter=step),
                          by_epoch=False):
                self._drop(self._extra)
                self._extra = path
        if stop:
            raise TrainingInterrupted(
                f'stopped by {request.name or "a signal on another rank"} '
                f'after iteration {step}: saved {self.last_ckpt}; continue '
                'with `--resume` (same config and work dir)')

    def _agree(self, stop: bool, due: bool) -> tuple:
        """Whether any rank wants to stop or save (a CPU all-reduce)."""
        if not (torch_dist.is_available() and torch_dist.is_initialized()):
            return stop, due
        flags = torch.tensor([int(stop), int(due)])
        torch_dist.all_reduce(flags, op=torch_dist.ReduceOp.MAX,
                              group=self._group)
        return bool(flags[0]), bool(flags[1])

    # -------------------------------------------------------------- saving
    def _save(self, runner, filename: str, meta: dict,
              by_epoch: bool) -> bool:
        saved = runner.save_checkpoint(
            self.out_dir,
            filename,
            self.file_client_args,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler,
            meta=meta,
            by_epoch=by_epoch,
            backend_args=self.backend_args,
            **self.args)
        if saved is False:
            return False
        self._last_save = time.monotonic()
        self.last_ckpt = self.file_backend.join_path(self.out_dir, filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        if is_main_process():
            atomic_write_text(osp.join(runner.work_dir, 'last_checkpoint'),
                              self.last_ckpt)
        return True

    def _drop(self, path: Optional[str]) -> None:
        if path is None or not is_main_process() or path == self.last_ckpt:
            return
        if self.file_backend.isfile(path):
            self.file_backend.remove(path)
        elif self.file_backend.isdir(path):
            self.file_backend.rmtree(path)

    def _save_checkpoint_with_step(self, runner, step, meta) -> None:
        if not self._save(runner, self.filename_tmpl.format(step), meta,
                          self.by_epoch):
            return
        if self._extra is not None and self._extra != self.last_ckpt:
            self._drop(self._extra)
            self._extra = None
        if self.max_keep_ckpts <= 0 or (self.keep_ckpt_ids and
                                        self.keep_ckpt_ids[-1] == step):
            return
        ids = list(self.keep_ckpt_ids) + [step]
        stale = ids[:-self.max_keep_ckpts]
        self.keep_ckpt_ids.clear()
        self.keep_ckpt_ids.extend(ids[-self.max_keep_ckpts:])
        runner.message_hub.update_info('keep_ckpt_ids',
                                       list(self.keep_ckpt_ids))
        for old in stale:
            self._drop(self.file_backend.join_path(
                self.out_dir, self.filename_tmpl.format(old)))
