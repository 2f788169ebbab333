"""benchmarks/instruments/syncs.py: the sync counter on the CPU."""
from types import SimpleNamespace

import torch
import torch.nn as nn
from mmengine.logging import MessageHub
from mmpretrain.engine.optimizers.lars import LARS as ReferenceLARS
from mmpretrain.models.utils import CosineEMA

from benchmarks.instruments.syncs import SyncCounter
from benchmarks.tests.conftest import tiny_byol_cfg
from mmbyol.engine.hooks import BYOLMomentumHook
from mmbyol.engine.optimizers import BYOLOptimWrapperConstructor
from mmbyol.registry import MODELS


def test_counts_scalar_reads_and_value_dependent_shapes():
    x = torch.tensor([1.0, -2.0, 3.0])
    with SyncCounter(cuda=False) as syncs:
        x.sum().item()
        float(x.max())
        if x.sum() > 0:  # Python branch on a tensor value
            pass
        x.nonzero()
        x[x > 0]  # boolean mask indexing
        x.unique()
    assert syncs.count == 6
    assert syncs.by_op['_local_scalar_dense'] == 3


def test_counts_nothing_in_pure_tensor_code():
    x = torch.randn(4, 4, requires_grad=True)
    with SyncCounter(cuda=False) as syncs:
        y = torch.where(x > 0, x, x * 0.1).matmul(x).sum()
        y.backward()
        torch._foreach_norm([x, x.grad])
        x[torch.tensor([0, 2])]  # integer indexing is fine
    assert syncs.count == 0


def _byol_with_optimizer(optimizer_cfg):
    model = MODELS.build(tiny_byol_cfg())
    constructor = BYOLOptimWrapperConstructor(
        dict(optimizer=optimizer_cfg),
        dict(exclude_bias_and_norm=True))
    return model, constructor(model)


def _backward(model):
    views = [torch.randn(4, 3, 8, 8) for _ in range(2)]
    model.loss(views)['loss'].backward()


def test_byol_ema_and_fused_lars_step_without_syncs():
    """The whole optimizer step of mmbyol: FusedLARS + the EMA post-hook."""
    model, optim_wrapper = _byol_with_optimizer(
        dict(type='FusedLARS', lr=0.1, momentum=0.9, weight_decay=1e-6))
    hook = BYOLMomentumHook()
    runner = SimpleNamespace(model=model, optim_wrapper=optim_wrapper,
                             max_iters=10)
    hook.before_train(runner)
    before = [p.clone() for p in model.target_backbone.parameters()]
    for _ in range(2):  # the second step has momentum buffers
        _backward(model)
        with SyncCounter(cuda=False) as syncs:
            optim_wrapper.step()
        optim_wrapper.zero_grad()
        assert syncs.count == 0, syncs.by_op
    assert hook.steps == 2  # the EMA really ran inside the step
    after = list(model.target_backbone.parameters())
    assert any(not torch.equal(a, b) for a, b in zip(after, before))
    hook.after_train(runner)


def test_mmpretrain_ema_and_lars_sync_per_parameter():
    """The counter finds MMPretrain's bookkeeping syncs (so it can fail)."""
    model, optim_wrapper = _byol_with_optimizer(
        dict(type='SGD', lr=0.1))  # replaced by the reference LARS below
    optimizer = ReferenceLARS(optim_wrapper.optimizer.param_groups,
                              lr=0.1, momentum=0.9, weight_decay=1e-6)
    online = nn.Sequential(model.backbone, model.neck)
    ema = CosineEMA(online, momentum=0.004)
    MessageHub.get_instance('test_syncs').update_info('max_iters', 10)
    _backward(model)
    with SyncCounter(cuda=False) as lars_syncs:
        optimizer.step()
    ema.update_parameters(online)  # the first call only copies
    with SyncCounter(cuda=False) as ema_syncs:
        ema.update_parameters(online)
    weights = [p for g in optimizer.param_groups if not g.get('lars_exclude')
               for p in g['params']]
    assert lars_syncs.count == 2 * len(weights)
    # one per parameter (tau from a tensor step count), plus the checks of
    # the step counter against 0 and the interval
    assert ema_syncs.count == len(list(online.parameters())) + 2


def test_host_copy_of_a_device_value_is_counted_on_the_cpu_too():
    # tolist() of a CPU tensor never reaches the dispatcher; the counter
    # counts it for values computed from parameters (device values in an
    # accelerator run), in every running counter, and not for host values
    weight = nn.Parameter(torch.arange(3.0))
    host = torch.arange(3.0)
    with SyncCounter(locate=True) as outer:
        host.tolist()
        with SyncCounter() as inner:
            assert (weight.detach() * 2).tolist() == [0.0, 2.0, 4.0]
    assert inner.count == 1 and dict(inner.by_op) == {'tolist': 1}
    assert outer.count == 1
    assert any('test_syncs.py' in site for site in outer.sites)
    (weight.detach() * 2).tolist()  # outside any counter: nothing to report
    assert outer.count == 1
    assert 'tolist' not in vars(torch.Tensor)  # the wrapper is gone
