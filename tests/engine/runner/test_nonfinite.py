"""A NaN/inf loss skips the optimizer step and the EMA, is counted, and
stops the run after ``model.max_nonfinite_steps`` in a row."""
import math

import pytest
import torch
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper

from mmbyol.models.nonfinite_guard import NonFiniteLossError
from mmbyol.registry import MODELS
from mmbyol import register_all_modules
from mmbyol.utils import load_checkpoint_safely
from tests.conftest import tiny_byol_cfg
from tests.engine.runner._tiny import tiny_cfg, train


@pytest.fixture(autouse=True)
def _setup():
    register_all_modules(init_default_scope=False)


def _batch(seed: int) -> dict:
    g = torch.Generator().manual_seed(seed)
    views = [torch.rand(4, 3, 16, 16, generator=g) * 255 for _ in range(2)]
    return dict(inputs=views, data_samples=None)


def _model_with_loss_scales(scales, accumulate=1, max_steps=2):
    """A tiny BYOL whose i-th loss is multiplied by ``scales[i]``, an SGD
    wrapper, and a counter of optimizer steps (where the EMA hooks in)."""
    model = MODELS.build(tiny_byol_cfg(max_nonfinite_steps=max_steps))
    model.init_weights()
    real_loss = model.loss
    scales = iter(scales)

    def loss(inputs, data_samples=None, **kwargs):
        out = real_loss(inputs, data_samples)
        out['loss'] = out['loss'] * next(scales)
        return out

    model.loss = loss
    wrapper = OptimWrapper(
        torch.optim.SGD([p for p in model.parameters() if p.requires_grad],
                        lr=0.1), accumulative_counts=accumulate)
    wrapper.initialize_count_status(model, 0, 100)
    steps = []
    wrapper.optimizer.register_step_post_hook(lambda *a: steps.append(1))
    return model, wrapper, steps


def _params(model):
    return [p.detach().clone() for p in model.parameters()]


def test_nan_skips_step_and_stops_after_limit():
    hub = MessageHub.get_instance('test_nonfinite_stop')
    model, wrapper, steps = _model_with_loss_scales(
        [1.0, math.nan, math.inf, 1.0, math.nan, math.nan, math.nan])
    model.train_step(_batch(0), wrapper)
    assert len(steps) == 1
    before = _params(model)
    for i in (1, 2):  # NaN, inf: nothing moves, no optimizer/EMA step
        model.train_step(_batch(i), wrapper)
        assert all(torch.equal(a, b) for a, b in zip(before, _params(model)))
        assert all(p.grad is None for p in model.parameters())
    assert len(steps) == 1
    assert hub.get_info('nonfinite_in_a_row') == 2
    model.train_step(_batch(3), wrapper)  # finite: resets the run length
    assert len(steps) == 2 and hub.get_info('nonfinite_in_a_row') == 0
    model.train_step(_batch(4), wrapper)
    model.train_step(_batch(5), wrapper)
    with pytest.raises(NonFiniteLossError,
                       match=r'3 in a row \(model.max_nonfinite_steps=2\)'):
        model.train_step(_batch(6), wrapper)
    assert hub.get_info('nonfinite_total') == 5


def test_accumulation_window_keeps_its_count():
    """accumulative_counts=2: [finite, NaN] steps with the finite
    micro-batch's gradient (halved, as MMEngine scales each micro-batch);
    [NaN, NaN] steps nothing; the counter stays aligned with iterations."""
    MessageHub.get_instance('test_nonfinite_accum')
    model, wrapper, steps = _model_with_loss_scales(
        [1.0, math.nan, math.nan, math.nan, 1.0, 1.0], accumulate=2,
        max_steps=5)
    start = _params(model)
    # Reference: the gradient of the first micro-batch alone.
    ref, _, _ = _model_with_loss_scales([1.0])
    ref.load_state_dict(model.state_dict())
    ref_loss = ref.loss(ref.data_preprocessor(_batch(0), True)['inputs'])
    grads = torch.autograd.grad(
        ref_loss['loss'] / 2,
        [p for p in ref.parameters() if p.requires_grad], allow_unused=True)

    model.train_step(_batch(0), wrapper)
    model.train_step(_batch(1), wrapper)
    assert len(steps) == 1 and wrapper._inner_count == 2
    trainable = [p for p in model.parameters() if p.requires_grad]
    old = [s for s, p in zip(start, model.parameters()) if p.requires_grad]
    for p, p0, g in zip(trainable, old, grads):
        expected = p0 if g is None else p0 - 0.1 * g
        torch.testing.assert_close(p.detach(), expected)
    model.train_step(_batch(2), wrapper)
    model.train_step(_batch(3), wrapper)
    assert len(steps) == 1 and wrapper._inner_count == 4
    model.train_step(_batch(4), wrapper)
    model.train_step(_batch(5), wrapper)
    assert len(steps) == 2 and wrapper._inner_count == 6


def test_run_stops_and_keeps_last_good_checkpoint(tmp_path, monkeypatch):
    from mmbyol.models.algorithms.byol import BYOL
    real_loss = BYOL.loss

    def loss_nan_from_iter_3(self, inputs, data_samples=None, **kwargs):
        out = real_loss(self, inputs, data_samples)
        if MessageHub.get_current_instance().get_info('iter') >= 3:
            out['loss'] = out['loss'] * math.nan
        return out

    monkeypatch.setattr(BYOL, 'loss', loss_nan_from_iter_3)
    cfg = tiny_cfg(tmp_path, loop='iter', max_iters=9, ckpt_interval=3)
    cfg.model.max_nonfinite_steps = 2
    with pytest.raises(NonFiniteLossError, match='iteration 6,'):
        train(cfg)
    assert sorted(p.name for p in tmp_path.glob('*.pth')) == ['iter_3.pth']
    ckpt = load_checkpoint_safely(str(tmp_path / 'iter_3.pth'))
    assert all(torch.isfinite(v).all() for v in ckpt['state_dict'].values()
               if v.is_floating_point())


def test_a_step_makes_one_host_device_sync():
    # the guard's flag and the logged values travel in one copy; the batched
    # colour ops, FusedLARS and the EMA make none
    from mmbyol.engine.optimizers import FusedLARS
    from benchmarks.instruments.syncs import SyncCounter
    model = MODELS.build(tiny_byol_cfg(data_preprocessor=dict(
        type='BYOLDataPreprocessor', augment_on_device=True)))
    model.init_weights()
    wrapper = OptimWrapper(FusedLARS(
        [p for p in model.parameters() if p.requires_grad], lr=0.1))
    wrapper.optimizer.register_step_post_hook(
        lambda *args: model.update_target(0.99))
    model.train_step(_batch(0), wrapper)
    with SyncCounter(locate=True) as syncs:
        log_vars = model.train_step(_batch(1), wrapper)
    assert syncs.count == 1, dict(syncs.sites)
    assert set(log_vars) >= {'loss', 'proj_std'}
    assert all(type(v) is float for v in log_vars.values())
