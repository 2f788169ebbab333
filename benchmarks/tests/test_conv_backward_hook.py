from types import SimpleNamespace
from unittest.mock import MagicMock

import pytest
import torch

from benchmarks.experiments.conv_backward_as_forward import \
    Conv2dBackwardAsForward
from benchmarks.experiments.conv_backward_hook import \
    ConvBackwardAsForwardHook
from benchmarks.tests.conftest import tiny_byol_cfg
from mmbyol.registry import MODELS


def _model():
    torch.manual_seed(0)
    return MODELS.build(tiny_byol_cfg()).double()


def _converted(backbone):
    return sorted(name for name, m in backbone.named_modules()
                  if type(m) is Conv2dBackwardAsForward)


def test_switches_the_stages_stride1_convolutions_of_the_online_encoder():
    model = _model()
    runner = SimpleNamespace(model=model, logger=MagicMock())
    hook = ConvBackwardAsForwardHook(stages='layer4')
    hook.before_train(runner)
    # layer4[0].conv1 has stride 2 and the shortcut a 1x1 stride-2 conv
    assert _converted(model.backbone) == [
        'layer4.0.conv2', 'layer4.1.conv1', 'layer4.1.conv2']
    assert _converted(model.target_backbone) == []  # no gradients there
    assert hook.apply(model) == 3  # idempotent
    assert '3 convolutions in layer4' in runner.logger.info.call_args[0][0]


def test_a_training_step_gives_the_same_loss_and_gradients():
    # float64, so that summation order cannot hide a wrong gradient
    torch.manual_seed(3)
    views = [torch.randn(4, 3, 32, 32, dtype=torch.float64)
             for _ in range(2)]
    plain, fast = _model(), _model()
    ConvBackwardAsForwardHook(stages=['layer3', 'layer4']).apply(fast)
    assert len(_converted(fast.backbone)) == 6
    losses = []
    for model in (plain, fast):
        loss = model.loss(views)['loss']
        loss.backward()
        losses.append(loss.detach())
    torch.testing.assert_close(losses[1], losses[0], rtol=0, atol=0)
    for (name, a), b in zip(plain.named_parameters(), fast.parameters()):
        if a.grad is not None:
            torch.testing.assert_close(b.grad, a.grad, rtol=1e-9,
                                       atol=1e-12, msg=name)


def test_warns_when_the_stages_hold_no_convolution_it_can_compute():
    runner = SimpleNamespace(model=_model(), logger=MagicMock())
    # the stem's 3x3 convolution is in conv1; norm1 holds none
    ConvBackwardAsForwardHook(stages=['norm1']).before_train(runner)
    assert 'nothing changes' in runner.logger.warning.call_args[0][0]
    runner.logger.info.assert_not_called()


def test_names_a_missing_stage():
    with pytest.raises(ValueError, match="no sub-module 'layer9'.*layer4"):
        ConvBackwardAsForwardHook(stages=['layer9']).apply(_model())
