from typing import Sequence

import torch
import torch.nn as nn
from mmengine.hooks import Hook
from mmpretrain.utils import get_ori_model

from mmbyol.registry import HOOKS


def to_channels_last(module: nn.Module, args: tuple) -> tuple:
    """Forward pre-hook: 4-D inputs become NHWC in memory (same values)."""
    if args and isinstance(args[0], torch.Tensor) and args[0].dim() == 4:
        return (args[0].contiguous(memory_format=torch.channels_last),
                *args[1:])
    return args


@HOOKS.register_module()
class ChannelsLastHook(Hook):
    """Runs conv backbones in the channels-last (NHWC) memory layout.

    Before training, the weights of the named sub-modules (by default
    BYOL's online and target backbones) are converted in place to
    ``torch.channels_last`` and their 4-D inputs are made channels-last by a
    forward pre-hook.  oneDNN (CPU) and cuDNN (GPU) convolutions are fastest
    in NHWC, especially in bf16.  Only the memory layout changes, never a
    value: the same parameters (same objects, so the optimizer and the
    EMA keep them) hold the same numbers and the state dict loads into an
    NCHW model unchanged.  Online and target are converted together so the
    fused EMA sees identical strides.

    Args:
        modules (Sequence[str]): attribute names of the sub-modules to
            convert; missing ones are skipped. Defaults to
            ``('backbone', 'target_backbone')``.
    """

    priority = 'VERY_HIGH'

    def __init__(self,
                 modules: Sequence[str] = ('backbone',
                                           'target_backbone')) -> None:
        self.modules = tuple(modules)
        self._handles = []

    def before_train(self, runner) -> None:
        self.apply(get_ori_model(runner.model))

    def apply(self, model: nn.Module) -> None:
        """Convert ``model``'s named sub-modules (idempotent)."""
        for handle in self._handles:
            handle.remove()
        self._handles = []
        for name in self.modules:
            module = getattr(model, name, None)
            if module is None:
                continue
            module.to(memory_format=torch.channels_last)
            self._handles.append(
                module.register_forward_pre_hook(to_channels_last))
