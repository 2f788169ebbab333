import pytest
import torch
from mmpretrain.structures import DataSample

from mmbyol.functional import byol_loss
from mmbyol.registry import MODELS, OPTIM_WRAPPER_CONSTRUCTORS
from tests.conftest import tiny_byol_cfg


def build(**overrides):
    torch.manual_seed(0)
    model = MODELS.build(tiny_byol_cfg(**overrides))
    model.init_weights()
    return model


def views(n=8, size=16):
    g = torch.Generator().manual_seed(1)
    return [torch.randn(n, 3, size, size, generator=g) for _ in range(2)]


def online_and_target(model):
    online = list(model.backbone.state_dict().values()) + list(
        model.neck.state_dict().values())
    target = list(model.target_backbone.state_dict().values()) + list(
        model.target_neck.state_dict().values())
    return online, target


def test_target_starts_as_exact_copy_and_is_frozen():
    model = build()
    online, target = online_and_target(model)
    assert len(online) == len(target)
    for o, t in zip(online, target):
        assert torch.equal(o, t)
    assert not any(p.requires_grad for p in model.target_backbone.parameters())
    assert not any(p.requires_grad for p in model.target_neck.parameters())


def test_target_is_not_in_the_optimizer():
    model = build()
    constructor = OPTIM_WRAPPER_CONSTRUCTORS.build(
        dict(type='BYOLOptimWrapperConstructor',
             optim_wrapper_cfg=dict(optimizer=dict(type='SGD', lr=0.1))))
    in_optimizer = {
        id(p) for g in constructor(model).optimizer.param_groups
        for p in g['params']
    }
    target = list(model.target_backbone.parameters()) + list(
        model.target_neck.parameters())
    online = [p for n, p in model.named_parameters() if p.requires_grad]
    assert not in_optimizer & {id(p) for p in target}
    assert in_optimizer == {id(p) for p in online}


def test_loss_is_the_symmetric_sum_computed_by_hand():
    model = build()
    v1, v2 = views()
    losses = model(views(), mode='loss')
    with torch.no_grad():
        z1 = model.neck(model.backbone(v1))
        z2 = model.neck(model.backbone(v2))
        t1 = model.target_neck(model.target_backbone(v1))
        t2 = model.target_neck(model.target_backbone(v2))
        expected12 = byol_loss(model.head.predictor(z1), t2).mean()
        expected21 = byol_loss(model.head.predictor(z2), t1).mean()
    torch.testing.assert_close(losses['pred1_target2'], expected12)
    torch.testing.assert_close(losses['pred2_target1'], expected21)
    torch.testing.assert_close(losses['loss'].detach(),
                               expected12 + expected21)
    assert 0 <= losses['loss'].item() <= 8


def test_loss_is_symmetric_in_the_views():
    model = build()
    v1, v2 = views()
    a = model([v1, v2], mode='loss')
    b = model([v2, v1], mode='loss')
    torch.testing.assert_close(a['loss'], b['loss'])
    torch.testing.assert_close(a['pred1_target2'], b['pred2_target1'])


def test_gradients_reach_only_online_parameters():
    model = build()
    model(views(), mode='loss')['loss'].backward()
    for name, p in model.named_parameters():
        if name.startswith('target_'):
            assert p.grad is None, name
        else:  # (zero-initialised residual BNs make some grads exactly 0)
            assert p.grad is not None, name
    for module in (model.backbone, model.neck, model.head):
        assert sum(p.grad.abs().sum() for p in module.parameters()) > 0


def test_loss_has_no_side_effects_on_target():
    model = build()
    before = [t.clone() for t in online_and_target(model)[1]]
    model(views(), mode='loss')
    model(views(), mode='loss')
    # BN running stats of the target move in train mode, parameters never.
    params_after = list(model.target_backbone.parameters())
    params_before = before[:len(params_after)]
    names = list(model.target_backbone.state_dict())
    for name, b, a in zip(names, before, online_and_target(model)[1]):
        if 'running' not in name and 'num_batches' not in name:
            assert torch.equal(a, b), name
    assert params_before


def test_update_target_follows_ema_formula():
    model = build()
    with torch.no_grad():  # make online and target differ
        for p in model.backbone.parameters():
            p.add_(torch.randn_like(p))
    online = [p.clone() for p in model.backbone.parameters()]
    target = [p.clone() for p in model.target_backbone.parameters()]
    model.update_target(0.9)
    for o, t, new in zip(online, target, model.target_backbone.parameters()):
        torch.testing.assert_close(new, 0.9 * t + 0.1 * o)
    for o, t in zip(model.backbone.buffers(), model.target_backbone.buffers()):
        assert torch.equal(o, t)


def test_init_weights_resyncs_target():
    model = MODELS.build(tiny_byol_cfg())
    model.init_weights()
    for o, t in zip(*online_and_target(model)):
        assert torch.equal(o, t)


def test_tensor_and_predict_modes():
    model = build()
    v1, _ = views()
    maps = model(v1, mode='tensor')
    assert maps[-1].shape == (8, 64, 2, 2)
    samples = model(v1, mode='predict')
    assert len(samples) == 8 and samples[0].feature.shape == (64, )
    torch.testing.assert_close(samples[3].feature, maps[-1][3].mean((1, 2)))


def test_wrong_input_is_a_clear_error():
    model = build()
    with pytest.raises(ValueError, match='two views'):
        model(views()[0], mode='loss')


def test_health_signals_and_linear_probe():
    model = build(linear_probe=dict(num_classes=3))
    samples = [DataSample().set_gt_label(i % 3) for i in range(8)]
    losses = model(views(), samples, mode='loss')
    assert 0 < losses['proj_std'] < 1
    torch.testing.assert_close(losses['pred_target_cos'],
                               1 - losses['loss'].detach() / 4)
    assert 'loss_probe' in losses and 0 <= losses['probe_acc'] <= 1
    # The probe's loss trains the probe and never reaches the encoder.
    losses['loss_probe'].backward()
    assert model.probe.weight.grad.abs().sum() > 0
    assert all(p.grad is None for p in model.backbone.parameters())
    # Without labels the probe is off.
    assert 'loss_probe' not in model(views(), mode='loss')


@pytest.mark.parametrize('backbone,width', [
    (dict(type='ResNet', depth=18, base_channels=8, stem_channels=8), 64),
    (dict(type='ResNet_CIFAR', depth=18, base_channels=8,
          stem_channels=8), 64),
    (dict(type='VisionTransformer', arch='deit-tiny', img_size=16,
          patch_size=8), 192),
], ids=['ResNet', 'ResNet_CIFAR', 'ViT'])
def test_mmpretrain_backbones_train_through_byol(backbone, width):
    from mmengine.registry import DefaultScope
    cfg = tiny_byol_cfg(backbone=backbone)
    cfg['neck']['in_channels'] = width
    with DefaultScope.overwrite_default_scope('mmbyol'):
        model = MODELS.build(cfg)
    model.init_weights()
    optimizer = torch.optim.SGD(
        [p for p in model.parameters() if p.requires_grad], lr=0.1)
    losses = model(views(n=4), mode='loss')
    losses['loss'].backward()
    optimizer.step()
    model.update_target(0.99)
    assert torch.isfinite(losses['loss'])
    assert model(views(n=4)[0], mode='predict')[0].feature.shape == (width, )
