"""What a bad batch, a full disk, a copied work dir or a wrong checkpoint
does to a run: nothing is poisoned, nothing is stranded, nothing trains
silently."""
import errno
import math
import os
import shutil

import pytest
import torch
from mmengine.fileio.backends import LocalBackend
from mmengine.hooks import Hook
from mmpretrain.utils import get_ori_model

from mmbyol import register_all_modules
from mmbyol.engine.runner.checkpoint_fit import CheckpointMismatchError
from mmbyol.engine.runner.checkpoint_io import CheckpointSaveError
from mmbyol.models.nonfinite_guard import NonFiniteLossError
from mmbyol.registry import RUNNERS
from mmbyol.utils import load_checkpoint_safely
from mmbyol.utils.safe_load import UnreadableCheckpointError
from tests.engine.runner._tiny import tiny_cfg, train


@pytest.fixture(autouse=True)
def _setup():
    register_all_modules(init_default_scope=False)


def normalising_cfg(work_dir, **kwargs):
    """tiny_cfg whose preprocessor normalises, so a zero std makes the
    forward pass itself produce inf/NaN from the input."""
    cfg = tiny_cfg(work_dir, **kwargs)
    cfg.model.data_preprocessor = dict(
        type='SelfSupDataPreprocessor', mean=[127.5] * 3, std=[127.5] * 3)
    return cfg


class ZeroStdAt(Hook):
    """Divides the inputs by zero at one iteration (0-based), and records
    the whole model state just before and just after it."""

    def __init__(self, at: int) -> None:
        self.at = at
        self.before = self.after = None

    def _state(self, runner):
        return {k: v.detach().clone()
                for k, v in get_ori_model(runner.model).state_dict().items()}

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if runner.iter == self.at:
            self.before = self._state(runner)
            self._std = get_ori_model(runner.model).data_preprocessor.std
            self._saved = self._std.clone()
            self._std.zero_()

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        if runner.iter == self.at:
            self._std.copy_(self._saved)
            self.after = self._state(runner)


def run_with(cfg, *hooks):
    runner = RUNNERS.build(cfg)
    for hook in hooks:
        runner.register_hook(hook, priority='VERY_HIGH')
    runner.train()
    return runner


def all_finite(path) -> bool:
    state = load_checkpoint_safely(str(path))['state_dict']
    return all(torch.isfinite(v).all() for v in state.values()
               if v.is_floating_point())


# --------------------------------------------- 1. a NaN from the input

def test_nan_in_the_forward_pass_leaves_every_buffer_as_it_was(tmp_path):
    cfg = normalising_cfg(tmp_path, loop='iter', max_iters=6,
                          ckpt_interval=1)
    poison = ZeroStdAt(3)
    runner = run_with(cfg, poison)
    # the skipped step changed nothing: weights, BatchNorm statistics of the
    # online and the target network, bitwise
    assert poison.before.keys() == poison.after.keys()
    running = [k for k in poison.before if 'running_' in k]
    assert any(k.startswith('target_') for k in running)
    for key, value in poison.before.items():
        assert torch.equal(value, poison.after[key]), key
    # the checkpoint written right after the bad step, and every other, is
    # finite; training went on and ended finite
    assert all_finite(tmp_path / 'iter_4.pth')
    for i in range(1, 7):
        assert all_finite(tmp_path / f'iter_{i}.pth'), i
    log = open(runner.logger.log_file).read()
    # the progress log counts from 1: the 4th iteration
    assert 'non-finite loss (nan) at iteration 4: step skipped' in log


@pytest.mark.parametrize('lr', [1e30, math.inf])
def test_non_finite_weights_are_never_saved(tmp_path, lr):
    """A huge lr: a finite-loss step blows the weights up (to inf with
    lr=inf), the next losses are NaN, the run stops; no checkpoint with
    non-finite values exists and last_checkpoint names a finite one."""
    cfg = normalising_cfg(tmp_path, loop='iter', max_iters=8,
                          ckpt_interval=1)
    cfg.optim_wrapper.optimizer.lr = lr
    cfg.model.max_nonfinite_steps = 3
    cfg.param_scheduler = []
    with pytest.raises(NonFiniteLossError, match='in a row'):
        train(cfg)
    saved = sorted(tmp_path.glob('iter_*.pth'))
    assert all(all_finite(p) for p in saved)
    log = open(next(tmp_path.rglob('*.log'))).read()
    if lr == math.inf:  # the first step made every weight inf
        assert not saved and not (tmp_path / 'last_checkpoint').exists()
        assert 'not saving' in log and 'not finite' in log
    else:
        pointer = (tmp_path / 'last_checkpoint').read_text()
        assert os.path.isfile(pointer) and all_finite(pointer)


# ------------------------------------------------- 2. a failed save

def test_a_full_disk_strands_nothing(tmp_path, monkeypatch):
    real_put = LocalBackend.put

    def full_disk(self, obj, filepath):
        if 'iter_4' in str(filepath):
            with open(filepath, 'wb') as f:
                f.write(obj[:len(obj) // 2])
            raise OSError(errno.ENOSPC, 'No space left on device')
        return real_put(self, obj, filepath)

    monkeypatch.setattr(LocalBackend, 'put', full_disk)
    cfg = tiny_cfg(tmp_path, loop='iter', max_iters=6, ckpt_interval=2)
    with pytest.raises(CheckpointSaveError) as info:
        train(cfg)
    message = str(info.value)
    assert '\n' not in message
    assert 'iter_4.pth: No space left on device' in message
    assert message.count('iter_2.pth') == 1  # the last good one, named
    assert not list(tmp_path.glob('*.tmp'))
    assert (tmp_path / 'last_checkpoint').read_text().endswith('iter_2.pth')


def test_stale_temporaries_go_before_anything_writes(tmp_path, monkeypatch):
    """A killed save left ``iter_6.pth.tmp`` (e.g. on a full disk); the
    resumed runner removes it before its visualizer dumps the config."""
    train(tiny_cfg(tmp_path, loop='iter', max_iters=3, ckpt_interval=3))
    stale = tmp_path / 'iter_6.pth.tmp'
    stale.write_bytes(b'PK\x03\x04' + b'\0' * 1000)
    seen = []
    from mmengine.runner import Runner
    real_dump = Runner.dump_config

    def dump_config(self):
        seen.append(stale.exists())
        return real_dump(self)

    monkeypatch.setattr(Runner, 'dump_config', dump_config)
    cfg = tiny_cfg(tmp_path, loop='iter', max_iters=6, ckpt_interval=3,
                   resume=True, load_from=None)
    runner = train(cfg)
    assert seen == [False] and not stale.exists()
    assert 'removed' in open(runner.logger.log_file).read()


# ------------------------------------------ 3. resuming a copied work dir

def test_resume_takes_the_furthest_checkpoint_not_the_newest_file(
        tmp_path, monkeypatch):
    from mmbyol.engine.runner import ReliableRunner
    resumed, real_resume = [], ReliableRunner.resume
    monkeypatch.setattr(ReliableRunner, 'resume', lambda self, path, *a, **k:
                        (resumed.append(path), real_resume(self, path)))
    original = tmp_path / 'run'
    train(tiny_cfg(original, loop='iter', max_iters=6, ckpt_interval=2))
    copy = tmp_path / 'copy'
    shutil.copytree(original, copy)
    # copy order made iter_2.pth the newest file
    for age, name in enumerate(['iter_6.pth', 'iter_4.pth', 'iter_2.pth']):
        os.utime(copy / name, (1e9 + age, 1e9 + age))
    # and a file further on, in the original dir that last_checkpoint names
    shutil.copy(original / 'iter_6.pth', original / 'iter_8.pth')
    train(tiny_cfg(copy, loop='iter', max_iters=6, ckpt_interval=2,
                   resume=True, load_from=None))
    assert resumed == [str(copy / 'iter_6.pth')]


# ----------------------------------------- 4. checkpoints that do not fit

def _torchvision_resnet18(path):
    import torchvision
    torch.save(torchvision.models.resnet18().state_dict(), path)


def test_load_from_a_foreign_state_dict_stops(tmp_path):
    _torchvision_resnet18(tmp_path / 'tv.pth')
    cfg = tiny_cfg(tmp_path, loop='iter', max_iters=3,
                   load_from=str(tmp_path / 'tv.pth'))
    with pytest.raises(CheckpointMismatchError) as info:
        train(cfg)
    message = str(info.value)
    assert 'tv.pth does not fit the model' in message
    assert 'missing keys (backbone.' in message
    assert 'unexpected keys (conv1.weight' in message
    assert 'load_partial=True' in message
    assert not list(tmp_path.glob('iter_*.pth'))  # nothing trained


def _other_width(tmp_path):
    wide = tmp_path / 'wide'
    cfg = tiny_cfg(wide, loop='iter', max_iters=3, ckpt_interval=2)
    cfg.model.backbone.update(stem_channels=16, base_channels=16)
    cfg.model.neck.in_channels = 128
    train(cfg)
    return wide / 'iter_3.pth'


def test_a_checkpoint_of_another_width_stops_or_loads_partially(tmp_path):
    wide = _other_width(tmp_path)
    cfg = tiny_cfg(tmp_path / 'narrow', loop='iter', max_iters=3,
                   load_from=str(wide))
    with pytest.raises(CheckpointMismatchError,
                       match=r'tensors of another shape \(backbone.conv1'
                       r'.weight: checkpoint \(16, 3, 3, 3\), model '
                       r'\(8, 3, 3, 3\)'):
        train(cfg)
    # the explicit opt-in loads what fits, with a warning
    cfg = tiny_cfg(tmp_path / 'partial', loop='iter', max_iters=3,
                   load_from=str(wide), load_partial=True)
    runner = train(cfg)
    assert 'loading what fits' in open(runner.logger.log_file).read()


def test_resume_of_a_checkpoint_of_another_width_stops(tmp_path):
    wide = _other_width(tmp_path)
    cfg = tiny_cfg(tmp_path / 'narrow', loop='iter', max_iters=3,
                   resume=True, load_from=str(wide), load_partial=True)
    with pytest.raises(CheckpointMismatchError, match='another shape'):
        train(cfg)


def test_resume_of_a_weights_file_or_a_directory_says_what_it_is(tmp_path):
    _torchvision_resnet18(tmp_path / 'tv.pth')
    cfg = tiny_cfg(tmp_path, loop='iter', max_iters=3, resume=True,
                   load_from=str(tmp_path / 'tv.pth'))
    with pytest.raises(CheckpointMismatchError,
                       match='tv.pth is not a training checkpoint of this '
                       r'runner \(no state_dict, optimizer, message_hub, '
                       r'meta\)'):
        train(cfg)
    cfg = tiny_cfg(tmp_path, loop='iter', max_iters=3, resume=True,
                   load_from=str(tmp_path))
    with pytest.raises(UnreadableCheckpointError, match='is a directory'):
        train(cfg)


# ------------------------------------------- 7. memory across many saves

def _rss_mb() -> float:
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmRSS'):
                return int(line.split()[1]) / 1024
    raise RuntimeError('no VmRSS')


class RSSAfterIter(Hook):
    priority = 'LOWEST'  # after the checkpoint hook's save

    def __init__(self) -> None:
        self.rss = []

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        self.rss.append(_rss_mb())


def test_saving_does_not_grow_memory(tmp_path):
    """40 saves of an 8 MB checkpoint, one per iteration: resident memory
    after the last 30 grows by no more than a few MB (about 1 MB per save
    would be 30 MB), with glibc's default allocator."""
    cfg = tiny_cfg(tmp_path, loop='iter', max_iters=40, ckpt_interval=1)
    cfg.model.backbone.update(stem_channels=16, base_channels=16)
    cfg.model.neck.in_channels = 128
    cfg.default_hooks.checkpoint.max_keep_ckpts = 2
    probe = RSSAfterIter()
    runner = RUNNERS.build(cfg)
    runner.register_hook(probe, priority='LOWEST')
    runner.train()
    size = (tmp_path / 'iter_40.pth').stat().st_size / 2**20
    assert size > 5
    growth = probe.rss[-1] - probe.rss[9]
    assert growth < 5, probe.rss
