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
