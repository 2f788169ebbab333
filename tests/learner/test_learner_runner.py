"""BYOLLearner and the registered (Runner) BYOL: same math, same weights."""
import math

import pytest
import torch

from mmbyol.engine.hooks.byol_momentum_hook import BYOLMomentumHook
from mmbyol.learner import BYOLLearner
from mmbyol.registry import MODELS

BACKBONE = dict(type='ResNet_CIFAR', depth=18, stem_channels=8,
                base_channels=8)


def build_pair(seed=0):
    """A Runner BYOL and a learner around the same backbone class, with the
    learner's weights loaded from the BYOL's state dict."""
    torch.manual_seed(seed)
    byol = MODELS.build(dict(
        type='BYOL', backbone=BACKBONE,
        neck=dict(type='BYOLNeck', in_channels=64, hid_channels=32,
                  out_channels=16),
        head=dict(type='LatentPredictHead',
                  predictor=dict(type='BYOLNeck', in_channels=16,
                                 hid_channels=32, out_channels=16))))
    learner = BYOLLearner(MODELS.build(BACKBONE), 16, hidden_layer=None,
                          projection_size=16, projection_hidden_size=32,
                          total_steps=10, base_tau=0.99)
    unused = learner.load_runner_checkpoint(
        dict(state_dict=byol.state_dict()))
    assert all(not k.startswith(('backbone', 'neck', 'head.predictor',
                                 'target_')) for k in unused)
    return byol, learner


def online_parameters(byol):
    modules = (byol.backbone, byol.neck, byol.head.predictor)
    return [p for m in modules for p in m.parameters()]


def test_learner_and_registered_byol_agree():
    byol, learner = build_pair()
    byol.train()
    learner.train()
    g = torch.Generator().manual_seed(0)
    view1, view2 = torch.randn(2, 8, 3, 16, 16, generator=g)

    runner_loss = byol.loss([view1, view2])['loss']
    learner_loss = learner.loss_from_views(view1, view2)
    torch.testing.assert_close(learner_loss, runner_loss, rtol=0, atol=1e-6)

    byol_opt = torch.optim.SGD(online_parameters(byol), lr=0.5)
    learner_opt = torch.optim.SGD(
        [p for p in learner.parameters() if p.requires_grad], lr=0.5)
    before = byol.target_backbone.conv1.weight.detach().clone()
    runner_loss.backward()
    learner_loss.backward()
    byol_opt.step()
    learner_opt.step()
    tau0 = 1 - (1 - 0.99) * (math.cos(0) + 1) / 2  # paper's schedule, k=0
    byol.update_target(tau0)
    assert learner.update_target() == pytest.approx(tau0)

    converted = learner.to_runner_checkpoint()['state_dict']
    reference = byol.state_dict()
    assert set(k for k in reference
               if not k.startswith('probe')) == set(converted)
    for key, value in converted.items():
        torch.testing.assert_close(value, reference[key], rtol=0, atol=1e-6,
                                   msg=key)
    assert not torch.equal(before, byol.target_backbone.conv1.weight)
    # and the next losses agree as well
    torch.testing.assert_close(
        learner.loss_from_views(view2, view1),
        byol.loss([view2, view1])['loss'], rtol=0, atol=1e-5)


def test_checkpoint_round_trip_through_files(tmp_path):
    from mmengine.runner import load_checkpoint
    byol, learner = build_pair()
    learner.steps, learner.tau = 7, 0.9971
    checkpoint = learner.to_runner_checkpoint()
    assert checkpoint['byol_momentum'] == dict(steps=7, tau=0.9971)
    torch.save(checkpoint, tmp_path / 'from_learner.pth')

    # learner -> Runner: MMEngine loads it strictly into a fresh BYOL, and
    # the momentum hook resumes the learner's step counter.
    torch.manual_seed(5)
    fresh, _ = build_pair(seed=5)
    load_checkpoint(fresh, str(tmp_path / 'from_learner.pth'), strict=True)
    for key, value in learner.to_runner_checkpoint()['state_dict'].items():
        assert torch.equal(fresh.state_dict()[key], value), key
    hook = BYOLMomentumHook()
    hook.after_load_checkpoint(None, torch.load(
        tmp_path / 'from_learner.pth', weights_only=True))
    assert (hook.steps, hook.tau) == (7, 0.9971)

    # Runner -> learner, from a file with the hook's counter.
    hook.schedule.steps = 11
    runner_ckpt = dict(meta=dict(), state_dict=fresh.state_dict())
    hook.before_save_checkpoint(None, runner_ckpt)
    torch.save(runner_ckpt, tmp_path / 'from_runner.pth')
    _, other = build_pair(seed=9)
    other.load_runner_checkpoint(str(tmp_path / 'from_runner.pth'))
    assert other.steps == 11
    for key, value in other.state_dict().items():
        if key != '_extra_state':
            assert torch.equal(value, learner.state_dict()[key]), key


def test_torchvision_resnet_learner_and_mmpretrain_byol_share_weights():
    """torchvision's ResNet-18 read at 'avgpool' (3x3 stem, no max-pool)
    and MMPretrain's ResNet_CIFAR-18 share one key layout but torchvision's
    classifier: the Runner checkpoint converts both ways, and the two
    compute the same loss."""
    import torchvision
    torch.manual_seed(0)
    byol = MODELS.build(dict(
        type='BYOL', backbone=dict(type='ResNet_CIFAR', depth=18),
        neck=dict(type='BYOLNeck', in_channels=512, hid_channels=32,
                  out_channels=16),
        head=dict(type='LatentPredictHead',
                  predictor=dict(type='BYOLNeck', in_channels=16,
                                 hid_channels=32, out_channels=16))))
    net = torchvision.models.resnet18()
    net.conv1 = torch.nn.Conv2d(3, 64, 3, 1, 1, bias=False)
    net.maxpool = torch.nn.Identity()
    learner = BYOLLearner(net, 16, 'avgpool', projection_size=16,
                          projection_hidden_size=32)
    fc = net.fc.weight.detach().clone()
    assert learner.load_runner_checkpoint(
        dict(state_dict=byol.state_dict())) == []
    assert torch.equal(net.fc.weight, fc)  # not in the Runner checkpoint
    views = torch.randn(2, 4, 3, 16, 16)
    torch.testing.assert_close(learner.loss_from_views(*views),
                               byol.loss(list(views))['loss'], rtol=0,
                               atol=1e-5)
    converted = learner.to_runner_checkpoint()['state_dict']
    assert not any('fc.' in k for k in converted)
    byol.load_state_dict(converted, strict=True)

    # An encoder with another layout is refused, naming the keys.
    other = BYOLLearner(torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3), torch.nn.AdaptiveAvgPool2d(1)), 16, None,
        projection_size=16, projection_hidden_size=32)
    with pytest.raises(RuntimeError, match='Unexpected key.*backbone|'
                       'Missing key'):
        other.load_runner_checkpoint(dict(state_dict=byol.state_dict()))
