from typing import Sequence

import torch
import torch.nn as nn
from mmengine.hooks import Hook
from mmpretrain.utils import get_ori_model

from mmbyol.registry import HOOKS

NHWC, NCHW = torch.channels_last, torch.contiguous_format


def find_submodule(module: nn.Module, path: str, where: str) -> nn.Module:
    """``module.get_submodule(path)``, or a ValueError that starts with
    ``where`` (e.g. ``"ChannelsLastHook(keep_nchw=...): backbone"``) and
    lists the children ``module`` does have."""
    try:
        return module.get_submodule(path)
    except AttributeError:
        children = ', '.join(n for n, _ in module.named_children())
        raise ValueError(f'{where} has no sub-module {path!r}; its children '
                         f'are: {children}') from None


class Relayout(torch.autograd.Function):
    """The same values in another memory layout; the gradient goes back in
    the layout the input had, so the ops before it keep theirs."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, layout: torch.memory_format):
        ctx.layout = NCHW if x.is_contiguous() else NHWC
        return x.contiguous(memory_format=layout)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        return grad.contiguous(memory_format=ctx.layout), None


def _relayout_first(args: tuple, layout: torch.memory_format) -> tuple:
    if args and isinstance(args[0], torch.Tensor) and args[0].dim() == 4:
        return (Relayout.apply(args[0], layout), *args[1:])
    return args


def to_channels_last(module: nn.Module, args: tuple) -> tuple:
    """Forward pre-hook: 4-D inputs become NHWC in memory (same values)."""
    return _relayout_first(args, NHWC)


def to_nchw(module: nn.Module, args: tuple) -> tuple:
    """Forward pre-hook: 4-D inputs become NCHW in memory (same values)."""
    return _relayout_first(args, NCHW)


def output_to_channels_last(module: nn.Module, args: tuple, output):
    """Forward hook: a 4-D output goes back to NHWC."""
    if isinstance(output, torch.Tensor) and output.dim() == 4:
        return Relayout.apply(output, NHWC)
    return output


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

    Parts of a backbone can stay NCHW (``keep_nchw``): their weights keep
    the NCHW layout, their input is switched to NCHW on entry and their
    output back to NHWC on exit (gradients likewise, in reverse).  Which
    stages gain depends on the machine and the map sizes:
    ``benchmarks/layouts.py CONFIG`` times each stage in both layouts
    and suggests the list.

    Args:
        modules (Sequence[str]): attribute names of the sub-modules to
            convert; missing ones are skipped. Defaults to
            ``('backbone', 'target_backbone')``.
        keep_nchw (Sequence[str]): dotted names, inside each of
            ``modules``, of sub-modules that stay NCHW, e.g.
            ``['layer4']``. A name that one of ``modules`` does not have
            is an error. Defaults to none.
    """

    priority = 'VERY_HIGH'

    def __init__(self,
                 modules: Sequence[str] = ('backbone', 'target_backbone'),
                 keep_nchw: Sequence[str] = ()) -> None:
        if isinstance(keep_nchw, str):
            keep_nchw = [keep_nchw]
        self.modules = tuple(modules)
        self.keep_nchw = tuple(keep_nchw)
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
            kept = [find_submodule(module, sub,
                                   f'ChannelsLastHook(keep_nchw=...): {name}')
                    for sub in self.keep_nchw]
            module.to(memory_format=NHWC)
            self._handles.append(
                module.register_forward_pre_hook(to_channels_last))
            for sub in kept:
                sub.to(memory_format=NCHW)
                self._handles += [
                    sub.register_forward_pre_hook(to_nchw),
                    sub.register_forward_hook(output_to_channels_last)
                ]
