"""BYOLLearner: construction, views, hidden layers, target update, state."""
import copy
import math

import pytest
import torch
import torch.nn as nn
import torchvision

from mmbyol.learner import BYOLLearner


def tiny_net():
    """A torchvision-style classifier: representation at children()[-2]...
    which is Flatten; the pooled features before the Linear head."""
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
        nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.BatchNorm2d(16),
        nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 10))


def tiny_learner(**kwargs):
    torch.manual_seed(0)
    args = dict(image_size=16, projection_size=8, projection_hidden_size=32,
                total_steps=10)
    args.update(kwargs)
    return BYOLLearner(tiny_net(), **args)


def images(n=6, size=20, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (n, 3, size, size), dtype=torch.uint8,
                         generator=g)


def reference_tau(k, total, base, end=1.0):
    return end - (end - base) * (math.cos(math.pi * min(k, total) / total) +
                                 1) / 2


def test_optimizer_sees_every_parameter_at_construction():
    import mmbyol
    assert mmbyol.BYOLLearner is BYOLLearner
    learner = tiny_learner()
    optimizer = torch.optim.SGD(
        [p for p in learner.parameters() if p.requires_grad], lr=0.5)
    in_optimizer = {id(p) for g in optimizer.param_groups for p in g['params']}
    for module in (learner.net, learner.projector, learner.predictor):
        assert all(id(p) in in_optimizer for p in module.parameters())
    # The projector reads the 16 pooled channels; the target is frozen.
    assert learner.projector.in_channels == 16
    assert not any(p.requires_grad for p in learner.target_net.parameters())
    assert not any(p.requires_grad
                   for p in learner.target_projector.parameters())
    # One step trains the projector and the predictor (the seed-style bug
    # of a lazily created projector leaves them at their initial values).
    before = copy.deepcopy(learner.state_dict())
    loss = learner(images())
    loss.backward()
    optimizer.step()
    after = learner.state_dict()
    for name in ('projector.mlp.0.weight', 'predictor.mlp.3.weight',
                 'net.0.weight'):
        assert not torch.equal(before[name], after[name]), name
    # The classifier after the hidden layer gets no gradient and says so.
    assert learner.unused_parameters == ['8.weight', '8.bias']
    assert learner.net[8].weight.grad is None


def test_views_are_drawn_per_sample():
    learner = tiny_learner(image_size=12)
    batch = images(n=1, size=32).expand(8, -1, -1, -1).contiguous()
    view1, view2 = learner.views(batch)
    assert view1.shape == view2.shape == (8, 3, 12, 12)
    assert view1.dtype == torch.float32
    # Every sample of the batch is the same image, but each gets its own
    # augmentation: no two views within a batch are equal.
    flat = torch.cat([view1, view2]).flatten(1)
    distance = torch.cdist(flat, flat) + torch.eye(16) * 1e9
    assert distance.min() > 1e-3
    # The views are normalised with ImageNet's mean and std.
    raw = torch.cat([view1, view2]) * learner.std + learner.mean
    assert raw.min() >= -1e-5 and raw.max() <= 1 + 1e-5


def test_uint8_and_float_images_give_the_same_views():
    learner = tiny_learner()
    batch = images()
    v_uint8 = learner.views(batch, torch.Generator().manual_seed(3))
    v_float = learner.views(batch.float() / 255,
                            torch.Generator().manual_seed(3))
    for a, b in zip(v_uint8, v_float):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=0)


def test_hidden_layer_torchvision_name_and_index():
    torch.manual_seed(0)
    net = torchvision.models.resnet18()
    by_name = BYOLLearner(net, 32, hidden_layer='avgpool',
                          projection_hidden_size=16, projection_size=8)
    by_index = BYOLLearner(net, 32, hidden_layer=-2,
                           projection_hidden_size=16, projection_size=8)
    reference = copy.deepcopy(net)
    reference.fc = nn.Identity()
    x = torch.rand(2, 3, 32, 32)
    for learner in (by_name, by_index, reference):
        learner.eval()
    with torch.no_grad():
        expected = reference(by_name.normalize(x))
        torch.testing.assert_close(by_name.embed(x), expected)
        torch.testing.assert_close(by_index.embed(x), expected)
    assert by_name.projector.in_channels == 512
    assert by_name.unused_parameters == ['fc.weight', 'fc.bias']
    with pytest.raises(KeyError, match='avgpol'):
        BYOLLearner(net, 32, hidden_layer='avgpol')


def test_hidden_layer_mmpretrain_backbone():
    from mmpretrain.models import ResNet_CIFAR
    torch.manual_seed(0)
    net = ResNet_CIFAR(depth=18, stem_channels=8, base_channels=8)
    whole = BYOLLearner(net, 16, hidden_layer=None,
                        projection_hidden_size=16, projection_size=8)
    stage = BYOLLearner(net, 16, hidden_layer='layer3',
                        projection_hidden_size=16, projection_size=8)
    assert whole.projector.in_channels == 64
    assert stage.projector.in_channels == 32
    assert whole.unused_parameters == []
    x = torch.rand(2, 3, 16, 16)
    net.eval()
    with torch.no_grad():
        expected = net(whole.normalize(x))[-1].mean(dim=(2, 3))
        torch.testing.assert_close(whole.embed(x), expected)


def test_hidden_layer_timm():
    timm = pytest.importorskip('timm')
    net = timm.create_model('resnet18', pretrained=False, num_classes=10)
    learner = BYOLLearner(net, 32, hidden_layer=-2,
                          projection_hidden_size=16, projection_size=8)
    assert learner.projector.in_channels == 512


def test_update_target_follows_formula_and_schedule():
    learner = tiny_learner(total_steps=4, base_tau=0.99, end_tau=0.999)
    with torch.no_grad():  # make online and target differ
        for p in list(learner.net.parameters()) + list(
                learner.projector.parameters()):
            p.add_(torch.randn_like(p))
        learner.net[1].running_mean.fill_(0.5)
    taus = []
    for k in range(6):
        xi = [p.clone() for p in learner.target_net.parameters()]
        theta = [p.clone() for p in learner.net.parameters()]
        tau = learner.update_target()
        expected_tau = reference_tau(k, 4, 0.99, 0.999)
        assert tau == pytest.approx(expected_tau, abs=1e-12)
        for new, old, online in zip(learner.target_net.parameters(), xi,
                                    theta):
            torch.testing.assert_close(new, expected_tau * old +
                                       (1 - expected_tau) * online)
        taus.append(tau)
    assert taus[0] == pytest.approx(0.99)
    assert taus[4] == taus[5] == pytest.approx(0.999)  # end_tau after K
    assert learner.steps == 6
    # BatchNorm statistics are copied, not averaged.
    assert torch.equal(learner.target_net[1].running_mean,
                       learner.net[1].running_mean)


def test_tau_and_steps_are_validated():
    with pytest.raises(ValueError, match='0.996'):
        tiny_learner(base_tau=0.004)  # MMEngine's "momentum", not tau
    learner = tiny_learner(total_steps=None)
    with pytest.raises(ValueError, match='total_steps'):
        learner.update_target()
    assert learner.update_target(tau=0.5) == 0.5


def test_attach_updates_once_per_real_step_with_accumulation():
    learner = tiny_learner(total_steps=5)
    optimizer = torch.optim.SGD(
        [p for p in learner.parameters() if p.requires_grad], lr=0.1)
    learner.attach(optimizer)
    learner.attach(optimizer)  # attaching again replaces, never doubles
    accumulation = 3
    for step in range(2):
        for micro in range(accumulation):
            target = [p.clone() for p in learner.target_net.parameters()]
            (learner(images(seed=micro)) / accumulation).backward()
            for new, old in zip(learner.target_net.parameters(), target):
                assert torch.equal(new, old), 'target moved before the step'
        online = [p.detach().clone() for p in learner.net.parameters()]
        xi = [p.clone() for p in learner.target_net.parameters()]
        optimizer.step()
        optimizer.zero_grad()
        assert learner.steps == step + 1
        tau = reference_tau(step, 5, 0.996)
        new_online = list(learner.net.parameters())
        for new, old, theta, before in zip(learner.target_net.parameters(),
                                           xi, new_online, online):
            # after the step, with the stepped online weights
            torch.testing.assert_close(new, tau * old + (1 - tau) * theta)
        assert any(not torch.equal(a, b) for a, b in zip(new_online, online))
    # A step that AMP's grad scaler skips (inf gradient) moves nothing.
    scaler = torch.amp.GradScaler('cpu', init_scale=2.0)
    scaler.scale(learner(images())).backward()
    learner.net[0].weight.grad.fill_(float('inf'))
    scaler.step(optimizer)
    assert learner.steps == 2
    with pytest.warns(UserWarning, match='twice'):
        learner.update_target()
    learner.detach()
    optimizer.step()
    assert learner.steps == 3
    # A copy of an attached learner is not attached: it never moves when
    # the original's optimizer steps.
    learner.attach(optimizer)
    twin = copy.deepcopy(learner)
    optimizer.step()
    assert (learner.steps, twin.steps) == (4, 3)
    twin.detach()  # and detaching it leaves the original attached
    optimizer.step()
    assert learner.steps == 5


def test_state_dict_round_trip(tmp_path):
    learner = tiny_learner()
    optimizer = torch.optim.SGD(
        [p for p in learner.parameters() if p.requires_grad], lr=0.1)
    learner.attach(optimizer)
    learner(images()).backward()
    optimizer.step()
    torch.save(learner.state_dict(), tmp_path / 'learner.pth')
    torch.manual_seed(1)
    other = BYOLLearner(tiny_net(), 16, projection_size=8,
                        projection_hidden_size=32, total_steps=10)
    other.load_state_dict(
        torch.load(tmp_path / 'learner.pth', weights_only=True))
    assert other.steps == 1 and other.tau == learner.tau
    for (k, a), (_, b) in zip(learner.state_dict().items(),
                              other.state_dict().items()):
        if k != '_extra_state':
            assert torch.equal(a, b), k
    views = learner.views(images())
    torch.testing.assert_close(other.loss_from_views(*views),
                               learner.loss_from_views(*views))


def test_bf16_autocast_and_channels_last():
    learner = tiny_learner()
    fast = tiny_learner(channels_last=True).to(
        memory_format=torch.channels_last)
    views = learner.views(images())
    reference = learner.loss_from_views(*views)
    torch.testing.assert_close(fast.loss_from_views(*views), reference,
                               atol=1e-4, rtol=1e-4)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        loss = fast(images())
        low = fast.loss_from_views(*views)
    assert loss.dtype == torch.float32 and torch.isfinite(loss)
    assert abs(low.item() - reference.item()) < 0.1
    loss.backward()
    assert all(p.grad is not None for p in fast.predictor.parameters())


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
def test_cuda_fp16_autocast_grad_scaler_channels_last():
    learner = tiny_learner(channels_last=True).cuda().to(
        memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(
        [p for p in learner.parameters() if p.requires_grad], lr=0.1)
    learner.attach(optimizer)
    scaler = torch.amp.GradScaler('cuda')
    for _ in range(3):
        with torch.autocast('cuda', dtype=torch.float16):
            loss = learner(images().cuda())
        optimizer.zero_grad()
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        assert torch.isfinite(loss) and loss.dtype == torch.float32
    assert 1 <= learner.steps <= 3  # a step the scaler skips moves nothing
    with torch.no_grad():
        assert learner.eval().embed(images().cuda()).shape == (6, 16)
