import torch

from mmbyol.engine.hooks import CompileHook
from mmbyol.registry import MODELS
from tests.conftest import tiny_byol_cfg


def _cfg():
    # one residual stage: tracing cost grows with the number of blocks
    cfg = tiny_byol_cfg(backbone=dict(
        type='ResNet_CIFAR', depth=18, num_stages=1, out_indices=(0, ),
        strides=(1, ), dilations=(1, ),
        stem_channels=8, base_channels=8))
    cfg['neck']['in_channels'] = 8
    return cfg


def test_compiled_networks_give_the_eager_loss_and_keep_keys():
    torch.manual_seed(0)
    eager = MODELS.build(_cfg())
    compiled = MODELS.build(_cfg())
    compiled.load_state_dict(eager.state_dict())
    # 'eager' backend: Dynamo captures the graphs but skips code
    # generation, which keeps this test fast; the benchmark times inductor
    CompileHook(backend='eager').apply(compiled)
    assert compiled.backbone._compiled_call_impl is not None
    assert compiled.target_neck._compiled_call_impl is not None
    assert list(compiled.state_dict()) == list(eager.state_dict())
    views = [torch.randn(4, 3, 8, 8) for _ in range(2)]
    for model in (eager, compiled):
        model.loss(views)['loss'].backward()
    torch.testing.assert_close(
        compiled.loss(views)['loss'], eager.loss(views)['loss'])
    for a, b in zip(compiled.parameters(), eager.parameters()):
        if a.grad is not None:
            torch.testing.assert_close(a.grad, b.grad)
    torch._dynamo.reset()
