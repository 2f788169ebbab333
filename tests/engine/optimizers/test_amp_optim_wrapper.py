import copy

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import AmpOptimWrapper
from mmengine.runner import Runner

from benchmarks.instruments.syncs import SyncCounter
from mmbyol.engine.optimizers import AutocastOptimWrapper
from mmbyol.registry import MODELS
from tests.conftest import digits_runner_cfg, tiny_byol_cfg


def _model_and_wrapper(dtype='bfloat16'):
    torch.manual_seed(0)
    model = MODELS.build(tiny_byol_cfg())
    optimizer = torch.optim.SGD(
        [p for p in model.parameters() if p.requires_grad], lr=0.1)
    return model, AutocastOptimWrapper(optimizer=optimizer, dtype=dtype)


def _views():
    g = torch.Generator().manual_seed(1)
    return [torch.randn(4, 3, 8, 8, generator=g) for _ in range(2)]


def test_is_an_amp_optim_wrapper_that_builds_on_cpu():
    model, wrapper = _model_and_wrapper()
    assert isinstance(wrapper, AmpOptimWrapper)
    assert wrapper.device_type == 'cpu' and wrapper.loss_scaler is None
    with pytest.raises(ValueError, match='dtype'):
        AutocastOptimWrapper(optimizer=wrapper.optimizer, dtype='int8')


def test_bf16_forward_fp32_loss_params_and_ema():
    model, wrapper = _model_and_wrapper()
    seen = {}

    def record(module, inputs, outputs):
        seen['feat'] = outputs[-1].dtype

    model.backbone.register_forward_hook(record)
    with wrapper.optim_context(model):
        losses = model.loss(_views())
    assert seen['feat'] == torch.bfloat16  # the convolutions ran in bf16
    assert losses['loss'].dtype == torch.float32
    assert torch.isfinite(losses['loss'])
    with SyncCounter(cuda=False) as syncs:
        wrapper.update_params(losses['loss'])
    assert syncs.count == 0  # no GradScaler inf-check in bf16
    model.update_target(0.99)
    for p in list(model.parameters()) + list(model.target_neck.parameters()):
        assert p.dtype == torch.float32


def test_bf16_loss_close_to_fp32_and_float32_switches_autocast_off():
    model, bf16 = _model_and_wrapper('bfloat16')
    _, fp32 = _model_and_wrapper('float32')
    views = _views()
    with torch.no_grad():
        with fp32.optim_context(model):
            reference = model.loss(views)['loss']
        plain = model.loss(views)['loss']
        with bf16.optim_context(model):
            mixed = model.loss(views)['loss']
    assert torch.equal(reference, plain)
    assert not torch.equal(mixed, plain)
    torch.testing.assert_close(mixed, plain, rtol=0.05, atol=0.02)


def test_state_dict_round_trip_ignores_a_float16_scaler():
    model, wrapper = _model_and_wrapper()
    state = copy.deepcopy(wrapper.state_dict())
    assert 'loss_scaler' not in state
    state['loss_scaler'] = {'scale': 1024.0}
    _, other = _model_and_wrapper()
    other.load_state_dict(state)
    assert other.optimizer.param_groups[0]['lr'] == 0.1


def test_runner_trains_bf16_channels_last_with_finite_losses(tmp_path):
    cfg = digits_runner_cfg(tmp_path, max_iters=2, batch_size=8)
    cfg['optim_wrapper'].update(type='AutocastOptimWrapper', dtype='bfloat16')
    cfg['custom_hooks'] = cfg['custom_hooks'] + [dict(type='ChannelsLastHook')]
    runner = Runner.from_cfg(Config(cfg))
    runner.train()
    assert isinstance(runner.optim_wrapper, AutocastOptimWrapper)
    assert runner.optim_wrapper.cast_dtype == torch.bfloat16
    conv = runner.model.backbone.conv1.weight
    assert conv.is_contiguous(memory_format=torch.channels_last)
    loss = runner.message_hub.get_scalar('train/loss').current()
    assert 0 <= loss <= 4 * 2
