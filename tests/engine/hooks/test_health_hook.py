from pathlib import Path
from types import SimpleNamespace
from unittest.mock import MagicMock

import pytest
import torch
from mmengine.hooks import LoggerHook
from mmengine.logging import MessageHub

import mmbyol.engine.hooks.health_hook as health_module
from mmbyol.engine.hooks import BYOLHealthHook
from mmbyol.functional import projection_std
from mmbyol import register_all_modules
from tests.engine.hooks.test_knn_hook import tiny_runner


def fake_runner(hooks=()):
    hub = MessageHub(f'health-{id(hooks)}')
    return SimpleNamespace(message_hub=hub, iter=0, hooks=list(hooks),
                           visualizer=MagicMock())


def step(hook, runner, z):
    runner.message_hub.update_scalar('train/proj_std',
                                     float(projection_std(z)))
    runner.message_hub.update_scalar('train/tau', 0.996)
    hook.after_train_iter(runner, runner.iter)
    runner.iter += 1


def test_warns_on_collapse_only(monkeypatch):
    messages = []
    monkeypatch.setattr(health_module, 'print_log',
                        lambda msg, **kw: messages.append(msg))
    torch.manual_seed(0)
    healthy = torch.randn(256, 64)  # std ~ 1/8
    collapsed = torch.randn(1, 64).repeat(256, 1)  # std 0
    hook = BYOLHealthHook(std_floor=0.05, patience=2)
    runner = fake_runner([LoggerHook(interval=2)])
    hook.before_train(runner)
    assert hook.interval == 2 and not hook._write_scalars
    for _ in range(4):
        step(hook, runner, healthy)
    assert hook.num_warnings == 0
    for _ in range(2):  # first low check: patience 2, no warning yet
        step(hook, runner, collapsed)
    assert hook.num_warnings == 0 and hook.low_checks == 1
    for _ in range(2):  # second low check in a row: warn
        step(hook, runner, collapsed)
    assert hook.num_warnings == 1
    assert 'proj_std 0 < std_floor 0.05' in messages[-1]
    assert 'tau: 0.996' in messages[-1]
    for _ in range(2):
        step(hook, runner, healthy)
    assert hook.low_checks == 0
    runner.visualizer.add_scalars.assert_not_called()


def test_without_logger_hook_writes_scalars_and_reports_missing(monkeypatch):
    messages = []
    monkeypatch.setattr(health_module, 'print_log',
                        lambda msg, **kw: messages.append(msg))
    hook = BYOLHealthHook()
    runner = fake_runner()
    hook.before_train(runner)
    assert hook.interval == 10 and hook._write_scalars
    runner.iter = 9
    step(hook, runner, torch.randn(8, 4))
    args, kwargs = runner.visualizer.add_scalars.call_args
    assert set(args[0]) == {'proj_std', 'tau'} and kwargs['step'] == 10
    runner.message_hub = MessageHub('health-empty')
    runner.iter = 19
    hook.after_train_iter(runner, 19)
    assert 'no "proj_std"' in messages[-1]
    with pytest.raises(ValueError):
        BYOLHealthHook(std_floor=-1)


def test_real_run_reaches_local_and_tensorboard(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import \
        EventAccumulator
    register_all_modules()
    backends = [dict(type='LocalVisBackend'),
                dict(type='TensorboardVisBackend')]
    runner = tiny_runner(
        tmp_path, [dict(type='BYOLHealthHook', std_floor=1.0)],
        visualizer=dict(type='UniversalVisualizer', vis_backends=backends))
    runner.train()
    hook = next(h for h in runner.hooks if isinstance(h, BYOLHealthHook))
    assert hook.num_warnings == 2  # floor 1.0 is above any std: every check
    scalars = next(Path(tmp_path).rglob('vis_data/scalars.json')).read_text()
    for key in ('proj_std', 'pred_target_cos', 'tau', '"lr"'):
        assert key in scalars
    events = EventAccumulator(str(next(Path(tmp_path).rglob(
        'events.out.tfevents.*')).parent))
    events.Reload()
    tags = events.Tags()['scalars']
    assert {'proj_std', 'pred_target_cos', 'tau', 'lr'} <= set(tags)
