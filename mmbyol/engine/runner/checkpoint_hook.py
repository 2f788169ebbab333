import os
import os.path as osp

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook

from mmbyol.registry import HOOKS


def atomic_write_text(path: str, text: str) -> None:
    """Write ``text`` to ``path`` through a flushed temporary file + rename,
    so a reader sees the old content or the new one, never a torn file."""
    tmp = f'{path}.tmp'
    with open(tmp, 'w') as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """MMEngine's :class:`~mmengine.hooks.CheckpointHook`, crash-safe.

    Same arguments and file names.  Differences, so that a kill at any
    moment leaves at least one complete checkpoint that ``last_checkpoint``
    (or ``--resume auto``'s scan) finds:

    * the new checkpoint is written first (atomically, by
      :meth:`ReliableRunner.save_checkpoint`), and only then are checkpoints
      beyond ``max_keep_ckpts`` deleted (MMEngine deletes first, so with
      ``max_keep_ckpts=1`` a kill during the save leaves nothing);
    * ``last_checkpoint`` is replaced atomically after the rename.

    :class:`ReliableRunner` uses it in place of ``CheckpointHook``.
    """

    def _save_checkpoint_with_step(self, runner, step, meta) -> None:
        stale = []
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids and
                                            self.keep_ckpt_ids[-1] == step):
            ids = list(self.keep_ckpt_ids) + [step]
            stale = ids[:-self.max_keep_ckpts]
            self.keep_ckpt_ids.clear()
            self.keep_ckpt_ids.extend(ids[-self.max_keep_ckpts:])
            runner.message_hub.update_info('keep_ckpt_ids',
                                           list(self.keep_ckpt_ids))

        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir,
                                                     ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        runner.save_checkpoint(
            self.out_dir,
            ckpt_filename,
            self.file_client_args,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler,
            meta=meta,
            by_epoch=self.by_epoch,
            backend_args=self.backend_args,
            **self.args)
        if not is_main_process():
            return
        atomic_write_text(osp.join(runner.work_dir, 'last_checkpoint'),
                          self.last_ckpt)
        for old in stale:
            path = self.file_backend.join_path(self.out_dir,
                                               self.filename_tmpl.format(old))
            if self.file_backend.isfile(path):
                self.file_backend.remove(path)
            elif self.file_backend.isdir(path):
                self.file_backend.rmtree(path)
