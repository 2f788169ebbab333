import pytest
import torch

from mmbyol.engine.hooks import ChannelsLastHook
from mmbyol.registry import MODELS
from tests.conftest import tiny_byol_cfg


def _model():
    torch.manual_seed(0)
    return MODELS.build(tiny_byol_cfg())


def _step(model, views):
    optimizer = torch.optim.SGD(
        [p for p in model.parameters() if p.requires_grad], lr=0.1)
    loss = model.loss(views)['loss']
    loss.backward()
    optimizer.step()
    model.update_target(0.9)
    return loss.detach()


def test_channels_last_changes_layout_not_values():
    views = [torch.randn(4, 3, 8, 8) for _ in range(2)]
    nchw, nhwc = _model(), _model()
    params_before = list(nhwc.parameters())
    ChannelsLastHook().apply(nhwc)
    ChannelsLastHook().apply(nhwc)  # idempotent
    conv = nhwc.target_backbone.layer1[0].conv1.weight
    assert conv.is_contiguous(memory_format=torch.channels_last)
    assert not nchw.backbone.conv1.weight.is_contiguous(
        memory_format=torch.channels_last)
    # the same Parameter objects: optimizers built before keep working
    assert all(a is b for a, b in zip(params_before, nhwc.parameters()))
    seen = {}

    def record(module, inputs, output):
        seen['input'] = inputs[0].is_contiguous(
            memory_format=torch.channels_last)

    nhwc.backbone.conv1.register_forward_hook(record)
    torch.testing.assert_close(_step(nhwc, views), _step(nchw, views))
    assert seen['input']
    # after one step: equal up to fp32 summation order in oneDNN's NHWC
    # kernels (gradients through batch-4 BatchNorm differ by ~1e-4 relative)
    for a, b in zip(nhwc.state_dict().values(), nchw.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=1e-3, atol=1e-3)
    # an NHWC checkpoint loads into a plain model
    _model().load_state_dict(nhwc.state_dict())


def _is_nhwc(t):
    return (t.is_contiguous(memory_format=torch.channels_last)
            and not t.is_contiguous())


def test_keep_nchw_runs_a_stage_in_nchw_with_the_same_values():
    # 32 px: stage 4 sees 4 x 4 maps (at 1 x 1 both layouts are the same).
    # Seeded: with batch 4, BatchNorm amplifies fp32 summation order for
    # some inputs (either layout, up to 3% in a BN bias's gradient).
    torch.manual_seed(5)
    views = [torch.randn(4, 3, 32, 32) for _ in range(2)]
    nchw, mixed = _model(), _model()
    ChannelsLastHook(keep_nchw=['layer4']).apply(mixed)
    ChannelsLastHook(keep_nchw=['layer4']).apply(mixed)  # idempotent
    for bb in (mixed.backbone, mixed.target_backbone):
        assert _is_nhwc(bb.layer3[0].conv1.weight)
        assert bb.layer4[0].conv1.weight.is_contiguous()
        assert not _is_nhwc(bb.layer4[1].conv2.weight)
    seen = {}

    def record(name):
        def hook(module, inputs, output):
            seen[name] = (_is_nhwc(inputs[0]), _is_nhwc(output))
        return hook

    def record_grad(grad):
        seen['grad into layer3'] = _is_nhwc(grad)

    def watch_layer3(module, inputs, output):
        if output.requires_grad:
            output.register_hook(record_grad)

    mixed.backbone.layer4[0].conv1.register_forward_hook(record('conv'))
    mixed.backbone.layer4.register_forward_hook(record('stage'))
    mixed.backbone.layer3.register_forward_hook(watch_layer3)
    torch.testing.assert_close(_step(mixed, views), _step(nchw, views))
    assert seen['conv'] == (False, False)  # inside the kept stage: NCHW
    assert seen['stage'] == (False, True)  # its output goes back to NHWC
    assert seen['grad into layer3'] is True  # and the gradient likewise
    for a, b in zip(mixed.state_dict().values(), nchw.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=1e-3, atol=1e-3)


def test_keep_nchw_names_a_missing_submodule():
    with pytest.raises(ValueError, match="no sub-module 'layer9'.*layer4"):
        ChannelsLastHook(keep_nchw='layer9').apply(_model())
