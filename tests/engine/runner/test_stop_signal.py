"""SIGTERM / SIGINT: the iteration finishes, a resumable checkpoint is
written, training stops with one line; --resume continues bitwise."""
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from mmbyol import register_all_modules
from mmbyol.engine.runner.stop_signal import TrainingInterrupted
from tests._signal_hook import SignalAtHook
from tests.engine.runner._tiny import (assert_same_weights, tiny_cfg, train,
                                       weights)

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(autouse=True)
def _setup():
    register_all_modules(init_default_scope=False)


@pytest.mark.parametrize('signum', [signal.SIGTERM, signal.SIGINT])
def test_a_signal_mid_epoch_saves_and_resume_is_bitwise(tmp_path, signum):
    expected = weights(train(tiny_cfg(tmp_path / 'full', loop='epoch',
                                      epochs=2, ckpt_interval=100)))
    work = tmp_path / 'stopped'
    cfg = tiny_cfg(work, loop='epoch', epochs=2, ckpt_interval=100)
    from mmbyol.registry import RUNNERS
    runner = RUNNERS.build(cfg)
    # iteration 5 of 6 (0-based 4): the middle of the second epoch
    runner.register_hook(SignalAtHook(4, signum))
    with pytest.raises(TrainingInterrupted) as info:
        runner.train()
    name = signal.Signals(signum).name
    assert str(info.value) == (
        f'stopped by {name} after iteration 5: saved {work / "iter_5.pth"}; '
        'continue with `--resume` (same config and work dir)')
    assert (work / 'last_checkpoint').read_text() == str(work / 'iter_5.pth')
    assert not list(work.glob('*.tmp'))
    assert signal.getsignal(signum) is not None  # handlers given back
    resumed = train(tiny_cfg(work, loop='epoch', epochs=2, ckpt_interval=100,
                             resume=True, load_from=None))
    assert (resumed.epoch, resumed.iter) == (2, 6)
    assert_same_weights(weights(resumed), expected)


def test_timed_checkpoints_keep_only_the_newest(tmp_path):
    cfg = tiny_cfg(tmp_path, loop='iter', max_iters=6, ckpt_interval=4)
    cfg.default_hooks.checkpoint.interval_minutes = 1e-9  # every iteration
    cfg.default_hooks.checkpoint.max_keep_ckpts = 2
    saved = []
    from mmbyol.engine.runner import ReliableRunner
    real_save = ReliableRunner.save_checkpoint

    def save(self, out_dir, filename, *args, **kwargs):
        saved.append(filename)
        return real_save(self, out_dir, filename, *args, **kwargs)

    ReliableRunner.save_checkpoint = save
    try:
        train(cfg)
    finally:
        ReliableRunner.save_checkpoint = real_save
    # a save after every iteration: timed, or the interval's (4, and 6 at
    # the end); each timed one was dropped once a newer save succeeded
    assert saved == [f'iter_{i}.pth' for i in range(1, 7)]
    assert sorted(p.name for p in tmp_path.glob('*.pth')) == [
        'iter_4.pth', 'iter_6.pth']
    assert (tmp_path / 'last_checkpoint').read_text().endswith('iter_6.pth')


def test_train_py_prints_how_to_resume(tmp_path):
    cfg = tiny_cfg(tmp_path, loop='epoch', epochs=2, ckpt_interval=100)
    cfg.custom_imports = dict(imports=['tests._signal_hook'])
    cfg.custom_hooks = [dict(type='SignalAtHook', at=1,
                             signum=int(signal.SIGINT))]
    cfg.dump(str(tmp_path / 'cfg.py'))
    result = subprocess.run(
        [sys.executable, 'tools/train.py', str(tmp_path / 'cfg.py')],
        cwd=REPO, capture_output=True, text=True, timeout=300,
        env={'PYTHONPATH': str(REPO), 'PATH': '/usr/bin:/bin',
             'OMP_NUM_THREADS': '1'})
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith('error: stopped by SIGINT after iteration 2: '
                           f'saved {tmp_path / "iter_2.pth"}')
    assert 'Traceback' not in result.stderr
