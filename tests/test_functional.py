import math

import pytest
import torch

from mmbyol.functional import byol_loss, copy_buffers_, cosine_tau, \
    ema_update_


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
