"""Atomic checkpoints and ``--resume auto`` falling back past a bad file."""
import os

import pytest
import torch
from mmengine.fileio.backends import LocalBackend

from mmbyol import register_all_modules
from mmbyol.utils.safe_load import UnsafeCheckpointError
from tests.engine.runner._tiny import (assert_same_weights, tiny_cfg, train,
                                       weights)


@pytest.fixture(autouse=True)
def _setup():
    register_all_modules(init_default_scope=False)


def _last_checkpoint(work_dir) -> str:
    return (work_dir / 'last_checkpoint').read_text()


def test_kill_during_save_leaves_last_good_checkpoint(tmp_path, monkeypatch):
    """A save that dies half-way through writing the file leaves neither a
    partial ``iter_6.pth`` nor a ``last_checkpoint`` pointing to it; and
    with ``max_keep_ckpts=1`` the previous checkpoint is still there
    (MMEngine's hook deletes it before saving the next)."""
    real_put = LocalBackend.put

    def dying_put(self, obj, filepath):
        if 'iter_6' in str(filepath):
            with open(filepath, 'wb') as f:
                f.write(obj[:len(obj) // 2])
            raise KeyboardInterrupt('killed during save')
        return real_put(self, obj, filepath)

    monkeypatch.setattr(LocalBackend, 'put', dying_put)
    cfg = tiny_cfg(tmp_path, loop='iter', max_iters=6)
    cfg.default_hooks.checkpoint.max_keep_ckpts = 1
    with pytest.raises(KeyboardInterrupt):
        train(cfg)
    assert not (tmp_path / 'iter_6.pth').exists()
    assert not (tmp_path / 'iter_6.pth.tmp').exists()  # removed on error
    assert (tmp_path / 'iter_3.pth').exists()
    assert _last_checkpoint(tmp_path).endswith('iter_3.pth')


def test_resume_auto_skips_truncated_newest(tmp_path):
    expected = weights(train(tiny_cfg(tmp_path, loop='iter', max_iters=6,
                                      ckpt_interval=2)))
    newest = tmp_path / 'iter_6.pth'
    data = newest.read_bytes()
    newest.write_bytes(data[:len(data) // 3])  # e.g. a full disk
    (tmp_path / 'iter_4.pth').write_bytes(b'')  # and an empty file
    cfg = tiny_cfg(tmp_path, loop='iter', max_iters=6, ckpt_interval=2,
                   resume=True, load_from=None)
    runner = train(cfg)
    assert runner.message_hub.get_info('iter') == 5
    assert_same_weights(weights(runner), expected)  # resumed from iter 2
    log = open(runner.logger.log_file).read()
    assert 'skipping' in log and 'iter_6.pth' in log and 'iter_4.pth' in log


def test_resume_auto_refuses_foreign_pickle(tmp_path):
    train(tiny_cfg(tmp_path, loop='iter', max_iters=3))
    torch.save({'state_dict': {}, 'payload': os.getcwd},
               tmp_path / 'iter_9.pth')
    cfg = tiny_cfg(tmp_path, loop='iter', max_iters=3, resume=True,
                   load_from=None)
    with pytest.raises(UnsafeCheckpointError, match='posix.getcwd'):
        train(cfg)
