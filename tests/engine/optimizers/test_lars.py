import copy

import pytest
import torch
from mmpretrain.engine.optimizers.lars import LARS as ReferenceLARS

from benchmarks.instruments.syncs import SyncCounter
from mmbyol.engine.optimizers.lars import FusedLARS


def _params(seed=0):
    g = torch.Generator().manual_seed(seed)
    shapes = [(8, 4, 3, 3), (8, ), (8, ), (16, 8), (16, ), (5, 5)]
    params = [torch.nn.Parameter(torch.randn(s, generator=g)) for s in shapes]
    params[-1].data.zero_()  # zero weight norm: trust ratio falls back to 1
    return params


def _groups(params):
    # weights; biases/norms excluded by role (as BYOLOptimWrapperConstructor
    # sets them); a group with its own lr
    return [
        dict(params=[params[0], params[3], params[5]]),
        dict(params=[params[1], params[2], params[4]], weight_decay=0.,
             lars_exclude=True),
    ]


def _run(optim_cls, steps=4, **kwargs):
    params = _params()
    optimizer = optim_cls(_groups(params), **kwargs)
    g = torch.Generator().manual_seed(1)
    for step in range(steps):
        for i, p in enumerate(params):
            p.grad = torch.randn(p.shape, generator=g)
            if step == 1 and i == 3:
                p.grad.zero_()  # zero gradient norm
            if step == 2 and i == 0:
                p.grad = None  # a parameter without gradient is skipped
        optimizer.param_groups[0]['lr'] *= 0.9  # a scheduler moved lr
        optimizer.step()
    return params, optimizer


@pytest.mark.parametrize('kwargs', [
    dict(lr=0.5, momentum=0.9, weight_decay=1.5e-6, eta=1e-3),
    dict(lr=0.2, momentum=0.9, weight_decay=1e-2, eta=0.02, nesterov=True),
    dict(lr=0.3, momentum=0.8, weight_decay=1e-3, dampening=0.1),
    dict(lr=0.1, weight_decay=1e-4),
])
def test_fused_lars_matches_mmpretrain_lars(kwargs):
    expected, ref = _run(ReferenceLARS, **kwargs)
    actual, fused = _run(FusedLARS, **kwargs)
    for e, a in zip(expected, actual):
        torch.testing.assert_close(a, e, rtol=1e-5, atol=1e-7)
    if kwargs.get('momentum'):
        for pe, pa in zip(expected, actual):
            torch.testing.assert_close(
                fused.state[pa]['momentum_buffer'],
                ref.state[pe]['momentum_buffer'], rtol=1e-5, atol=1e-7)


def test_fused_lars_moves_weights_by_the_trust_ratio():
    # one step, no momentum: w <- w - lr * eta*|w|/(|g| + wd|w| + eps)
    # * (g + wd w)
    w = torch.nn.Parameter(torch.tensor([3.0, 4.0]))
    w.grad = torch.tensor([0.0, 2.0])
    FusedLARS([w], lr=0.5, eta=0.1, weight_decay=0.1).step()
    trust = 0.1 * 5.0 / (2.0 + 0.1 * 5.0 + 1e-8)
    expected = torch.tensor([3.0, 4.0]) - 0.5 * trust * (
        torch.tensor([0.0, 2.0]) + 0.1 * torch.tensor([3.0, 4.0]))
    torch.testing.assert_close(w.detach(), expected)


def test_fused_lars_state_dict_round_trip():
    params, fused = _run(FusedLARS, steps=2, lr=0.1, momentum=0.9)
    clone = [copy.deepcopy(p) for p in params]
    other = FusedLARS(_groups(clone), lr=0.1, momentum=0.9)
    other.load_state_dict(copy.deepcopy(fused.state_dict()))
    for p in params + clone:
        p.grad = torch.ones_like(p)
    fused.step()
    other.step()
    for a, b in zip(params, clone):
        torch.testing.assert_close(a, b)


def test_fused_lars_has_no_syncs_but_mmpretrain_lars_has():
    counts = {}
    for cls in (FusedLARS, ReferenceLARS):
        params = _params()
        optimizer = cls(_groups(params), lr=0.1, momentum=0.9,
                        weight_decay=1e-4)
        for p in params:
            p.grad = torch.ones_like(p)
        with SyncCounter(cuda=False) as syncs:
            optimizer.step()
        counts[cls] = syncs.count
    assert counts[FusedLARS] == 0
    # two .item() per non-excluded parameter (3 of them)
    assert counts[ReferenceLARS] == 6


def test_fused_lars_rejects_bad_arguments():
    p = [torch.nn.Parameter(torch.zeros(1))]
    with pytest.raises(ValueError, match='lr'):
        FusedLARS(p, lr=-1.)
    with pytest.raises(ValueError, match='Nesterov'):
        FusedLARS(p, lr=0.1, nesterov=True)
