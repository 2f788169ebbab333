from typing import Sequence

from mmengine.hooks import Hook
from mmpretrain.utils import get_ori_model

from benchmarks.experiments.conv_backward_as_forward import \
    Conv2dBackwardAsForward
from mmbyol.engine.hooks.channels_last_hook import find_submodule
from mmbyol.registry import HOOKS


@HOOKS.register_module()
class ConvBackwardAsForwardHook(Hook):
    """Computes the gradients of chosen stages' stride-1 convolutions as
    forward convolutions (:class:`Conv2dBackwardAsForward`).

    The same sums in other kernels: parameters (the same objects, so the
    optimizer and the EMA keep them), state dict, forward and layout are
    untouched, and gradients equal the usual ones up to summation order
    (tested). It pays where the backend's forward convolution is much
    faster than its backward; ``benchmarks/layouts.py CONFIG`` measures
    each stage with and without it on the machine that trains, and
    ``benchmarks/speed.py CONFIG --backward-as-forward STAGE`` applies it::

        custom_hooks = [..., dict(type='ConvBackwardAsForwardHook',
                                  stages=['layer4'])]

    Importing this module registers the hook in mmbyol's ``HOOKS``.

    Args:
        stages (Sequence[str]): dotted names, inside each of ``modules``,
            of the sub-modules whose convolutions switch, e.g.
            ``['layer4']``. A name that one of ``modules`` does not have is
            an error; convolutions with a stride, dilation or groups keep
            the usual backward.
        modules (Sequence[str]): attribute names of the networks; missing
            ones are skipped. Defaults to ``('backbone',)``: the online
            encoder, the only one that gets gradients.
    """

    priority = 'VERY_HIGH'

    def __init__(self, stages: Sequence[str],
                 modules: Sequence[str] = ('backbone', )) -> None:
        if isinstance(stages, str):
            stages = [stages]
        self.stages = tuple(stages)
        self.modules = tuple(modules)

    def before_train(self, runner) -> None:
        count = self.apply(get_ori_model(runner.model))
        stages = ', '.join(self.stages)
        if count:
            runner.logger.info(
                f'ConvBackwardAsForwardHook: {count} convolutions in '
                f'{stages} compute their gradients as forward convolutions')
        else:
            runner.logger.warning(
                f'ConvBackwardAsForwardHook: {stages} hold no stride-1 '
                'nn.Conv2d that it can compute; nothing changes')

    def apply(self, model) -> int:
        """Convert the stages' convolutions (idempotent); how many are."""
        count = 0
        for name in self.modules:
            module = getattr(model, name, None)
            if module is None:
                continue
            for path in self.stages:
                stage = find_submodule(
                    module, path, f'ConvBackwardAsForwardHook(stages=...): '
                    f'{name}')
                count += Conv2dBackwardAsForward.convert(stage)
        return count
