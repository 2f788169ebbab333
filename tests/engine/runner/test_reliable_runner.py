"""ReliableRunner: runners started in the same second keep apart; ranks
leave ``train()`` together, after the last checkpoint is written."""
import mmengine.runner.runner as mmengine_runner

from mmbyol.registry import RUNNERS
from mmbyol import register_all_modules
from tests.engine.runner._tiny import tiny_cfg


def test_two_runners_in_one_second_keep_their_own_instances(
        tmp_path, monkeypatch):
    # MMEngine names the logger, message hub, visualizer, default scope and
    # log folder after the start second; the second runner gets "_1"
    register_all_modules(init_default_scope=False)
    monkeypatch.setattr(mmengine_runner.time, 'time',
                        lambda: 1_800_000_000.0)
    first, second = (RUNNERS.build(tiny_cfg(tmp_path)) for _ in range(2))
    assert second.timestamp == first.timestamp + '_1'
    assert first.log_dir != second.log_dir
    for name in ('message_hub', 'logger', 'visualizer', 'default_scope'):
        assert getattr(first, name) is not getattr(second, name), name
    # a third one in another second keeps MMEngine's plain name
    monkeypatch.setattr(mmengine_runner.time, 'time',
                        lambda: 1_800_000_001.0)
    third = RUNNERS.build(tiny_cfg(tmp_path))
    assert '_' in third.timestamp and not third.timestamp.endswith('_1')


def test_env_cfg_switches_host_memory_reuse_on(tmp_path, monkeypatch):
    from mmbyol.engine.runner import reliable_runner
    register_all_modules(init_default_scope=False)
    calls = []
    monkeypatch.setattr(reliable_runner, 'reuse_host_memory', calls.append)
    cfg = tiny_cfg(tmp_path, experiment_name='host-memory-default')
    RUNNERS.build(cfg)
    assert calls == []  # off unless asked
    cfg.env_cfg = dict(cfg.get('env_cfg', {}), reuse_host_memory=True)
    cfg.experiment_name = 'host-memory-reuse'
    RUNNERS.build(cfg)
    assert calls == [True]


def test_default_runtime_reuses_host_memory():
    from mmengine.config import Config
    cfg = Config.fromfile('configs/_base_/default_runtime.py')
    assert cfg.env_cfg.reuse_host_memory is True


def test_zero_workers_drop_persistent_workers(tmp_path):
    # configs keep their workers (persistent_workers=True); PyTorch refuses
    # that with num_workers=0, which users set to debug in one process
    register_all_modules(init_default_scope=False)
    cfg = tiny_cfg(tmp_path)
    loader_cfg = dict(cfg.train_dataloader, num_workers=0,
                      persistent_workers=True)
    loader = RUNNERS.get('ReliableRunner').build_dataloader(loader_cfg)
    assert loader.num_workers == 0 and not loader.persistent_workers
    assert len(next(iter(loader))['inputs']) == 2  # both views


def test_ranks_leave_train_together_after_the_last_checkpoint(
        tmp_path, monkeypatch):
    # In a distributed run, a rank that exits while rank 0 still writes the
    # last checkpoint can abort in gloo: train() ends in a barrier.
    from mmbyol.engine.runner import reliable_runner
    register_all_modules(init_default_scope=False)
    seen = []
    monkeypatch.setattr(
        reliable_runner, 'barrier',
        lambda: seen.append(sorted(p.name for p in tmp_path.glob('*.pth'))))
    RUNNERS.build(tiny_cfg(tmp_path, max_iters=3)).train()
    assert seen == [['iter_3.pth']]
