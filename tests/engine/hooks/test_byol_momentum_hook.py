import math

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from mmbyol.engine.hooks import BYOLMomentumHook
from mmbyol.functional import cosine_tau
from tests.conftest import digits_runner_cfg


def momentum_hook(runner):
    return next(h for h in runner.hooks if isinstance(h, BYOLMomentumHook))


@pytest.mark.parametrize('bad', [0.004, 0.5, 1.01])
def test_tau_outside_range_is_refused(bad):
    with pytest.raises(ValueError, match='base_tau'):  # a ConfigError
        BYOLMomentumHook(base_tau=bad)


def test_updates_once_per_optimizer_step_under_accumulation(tmp_path):
    cfg = digits_runner_cfg(tmp_path, max_iters=6)
    cfg['optim_wrapper']['accumulative_counts'] = 3
    runner = Runner.from_cfg(Config(cfg))
    calls = []
    model = runner.model
    original = model.update_target
    model.update_target = lambda tau: (calls.append(tau), original(tau))
    runner.train()
    hook = momentum_hook(runner)
    assert hook.schedule.total_steps == 2
    assert hook.steps == 2
    # init_weights() re-syncs the target (tau 0), then one update per step
    assert calls == [0.0] + [
        pytest.approx(cosine_tau(k, 2, 0.99)) for k in (0, 1)]


def test_target_follows_ema_of_online_after_each_step(tmp_path):
    runner = Runner.from_cfg(Config(digits_runner_cfg(tmp_path, max_iters=3)))
    model = runner.model
    snapshots = []
    original = model.update_target

    def checked_update(tau):  # the hook's EMA step, checked against Eq. 1
        online = [p.clone() for p in model.backbone.parameters()]
        target = [p.clone() for p in model.target_backbone.parameters()]
        original(tau)
        if tau == 0.0:  # init_weights() re-syncing the target
            return
        snapshots.append((online, target))
        for o, t, new in zip(online, target,
                             model.target_backbone.parameters()):
            torch.testing.assert_close(new, tau * t + (1 - tau) * o)

    model.update_target = checked_update
    runner.train()
    assert len(snapshots) == 3
    # the online network moved, and the target moved less than it did
    first_online, first_target = snapshots[0]
    moved_online = sum((a - b).norm() for a, b in zip(
        model.backbone.parameters(), first_online))
    moved_target = sum((a - b).norm() for a, b in zip(
        model.target_backbone.parameters(), first_target))
    assert 0 < moved_target < moved_online


def test_tau_is_logged_and_state_round_trips(tmp_path):
    runner = Runner.from_cfg(Config(digits_runner_cfg(tmp_path, max_iters=4)))
    runner.train()
    hook = momentum_hook(runner)
    logged = runner.message_hub.get_scalar('train/tau').current()
    assert logged == pytest.approx(cosine_tau(3, 4, 0.99))
    checkpoint = {}
    hook.before_save_checkpoint(runner, checkpoint)
    fresh = BYOLMomentumHook(base_tau=0.99)
    fresh.after_load_checkpoint(runner, checkpoint)
    assert fresh.steps == hook.steps == 4
    assert fresh.tau == pytest.approx(hook.tau)


def test_tau_schedule_at_start_middle_end():
    assert cosine_tau(0, 10) == pytest.approx(0.996)
    assert cosine_tau(5, 10) == pytest.approx(0.998)
    assert cosine_tau(10, 10) == pytest.approx(1.0)
    assert math.isclose(cosine_tau(5, 10, 0.99, 1.0), 0.995)
