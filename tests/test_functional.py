import math

import pytest
import torch

from mmbyol.functional import (byol_loss, check_tau, copy_buffers_,
                               cosine_tau, ema_update_, pool_features,
                               projection_std)
from mmbyol.utils.errors import ConfigError


def test_byol_loss_matches_hand_computation():
    p = torch.tensor([[3.0, 4.0], [1.0, 0.0], [0.0, 2.0]])
    z = torch.tensor([[4.0, 3.0], [-5.0, 0.0], [0.0, 7.0]])
    # cos = 24/25, -1, 1  ->  2 - 2cos = 2/25, 4, 0
    expected = torch.tensor([2 - 2 * 24 / 25, 4.0, 0.0])
    torch.testing.assert_close(byol_loss(p, z), expected)


def test_byol_loss_range_and_equals_squared_distance_of_unit_vectors():
    p, z = torch.randn(64, 8), torch.randn(64, 8)
    loss = byol_loss(p, z)
    assert loss.min() >= 0 and loss.max() <= 4
    unit = lambda x: x / x.norm(dim=1, keepdim=True)  # noqa: E731
    torch.testing.assert_close(loss, ((unit(p) - unit(z))**2).sum(1))


def test_byol_loss_stops_gradient_into_target():
    p = torch.randn(4, 3, requires_grad=True)
    z = torch.randn(4, 3, requires_grad=True)
    byol_loss(p, z).sum().backward()
    assert p.grad is not None and p.grad.abs().sum() > 0
    assert z.grad is None


def test_byol_loss_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match='same shape'):
        byol_loss(torch.randn(4, 3), torch.randn(4, 2))


@pytest.mark.parametrize('step,expected', [
    (0, 0.996),
    (50, 1 - 0.004 * (math.cos(math.pi / 2) + 1) / 2),
    (100, 1.0),
    (250, 1.0),
])
def test_cosine_tau_schedule(step, expected):
    assert cosine_tau(step, 100, 0.996, 1.0) == pytest.approx(expected)


def test_cosine_tau_with_end_below_one_and_bad_input():
    assert cosine_tau(0, 10, 0.99, 0.999) == pytest.approx(0.99)
    assert cosine_tau(10, 10, 0.99, 0.999) == pytest.approx(0.999)
    with pytest.raises(ValueError):
        cosine_tau(1, 0)
    with pytest.raises(ValueError):
        cosine_tau(-1, 10)


def test_ema_update_follows_formula():
    torch.manual_seed(0)
    target = [torch.randn(3, 4), torch.randn(5)]
    online = [torch.randn(3, 4), torch.randn(5)]
    expected = [0.9 * t + 0.1 * o for t, o in zip(target, online)]
    ema_update_(target, online, 0.9)
    for t, e in zip(target, expected):
        torch.testing.assert_close(t, e)


def test_ema_update_tau_one_keeps_and_zero_copies():
    t, o = [torch.randn(6)], [torch.randn(6)]
    before = t[0].clone()
    ema_update_(t, o, 1.0)
    torch.testing.assert_close(t[0], before)
    ema_update_(t, o, 0.0)
    torch.testing.assert_close(t[0], o[0])
    b_t, b_o = [torch.zeros(2)], [torch.ones(2)]
    copy_buffers_(b_t, b_o)
    torch.testing.assert_close(b_t[0], b_o[0])
    with pytest.raises(ValueError):
        ema_update_(t, o + o, 0.5)


def test_ema_update_modules_moves_parameters_and_copies_buffers():
    from mmbyol.functional import ema_update_modules_
    torch.manual_seed(0)
    online = [torch.nn.BatchNorm1d(3), torch.nn.Linear(3, 2)]
    target = [torch.nn.BatchNorm1d(3), torch.nn.Linear(3, 2)]
    online[0](torch.randn(8, 3))  # give the online BN running statistics
    before = [p.clone() for m in target for p in m.parameters()]
    ema_update_modules_(target, online, 0.75)
    new = [p for m in target for p in m.parameters()]
    theta = [p for m in online for p in m.parameters()]
    for b, t, o in zip(before, new, theta):
        torch.testing.assert_close(t, 0.75 * b + 0.25 * o)
    torch.testing.assert_close(target[0].running_mean, online[0].running_mean)


def test_projection_std_of_collapsed_is_zero():
    z = torch.randn(1, 64).repeat(32, 1) * torch.rand(32, 1).add(0.5)
    assert projection_std(z).item() == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize('d', [16, 256])
def test_projection_std_of_random_is_inverse_sqrt_d(d):
    torch.manual_seed(0)
    z = torch.randn(4096, d) * 3.0
    assert projection_std(z).item() == pytest.approx(1 / math.sqrt(d),
                                                     rel=0.05)


def test_projection_std_matches_reference_and_is_detached():
    torch.manual_seed(1)
    z = torch.randn(8, 5, requires_grad=True)
    unit = z.detach() / z.detach().norm(dim=1, keepdim=True)
    mean = unit.mean(0)
    ref = ((unit - mean)**2).mean(0).sqrt().mean()
    out = projection_std(z)
    assert not out.requires_grad
    torch.testing.assert_close(out, ref)
    with pytest.raises(ValueError):
        projection_std(torch.randn(2, 3, 4))


@pytest.mark.parametrize('value', [0.9, 0.996, 1.0, 1])
def test_check_tau_accepts_the_range(value):
    check_tau('base_tau', value)


@pytest.mark.parametrize('value, hint', [
    (0.004, 'converts to base_tau=0.996'),   # MMPretrain's momentum
    (0.1, 'converts to base_tau=0.9'),
    (1.5, None),                             # 1 - 1.5 is no tau either
    (-0.02, None),
    (0.5, None),
])
def test_check_tau_refuses_and_hints_only_a_valid_conversion(value, hint):
    with pytest.raises(ConfigError, match='outside \\[0.9, 1\\]') as err:
        check_tau('base_tau', value)
    message = str(err.value)
    if hint:
        assert hint in message
    else:
        assert 'converts' not in message


@pytest.mark.parametrize('value', ['0.996', None, True])
def test_check_tau_refuses_a_non_number(value):
    with pytest.raises(ConfigError, match='not a number'):
        check_tau('end_tau', value)


def test_pool_features_shapes():
    maps = torch.arange(2 * 3 * 2 * 2, dtype=torch.float).view(2, 3, 2, 2)
    torch.testing.assert_close(pool_features(maps), maps.mean(dim=(2, 3)))
    torch.testing.assert_close(pool_features((maps * 0, maps)),
                               maps.mean(dim=(2, 3)))
    tokens = torch.randn(2, 5)
    assert pool_features(tokens) is not None
    torch.testing.assert_close(pool_features([tokens]), tokens)
