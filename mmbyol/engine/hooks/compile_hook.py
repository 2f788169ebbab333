from typing import Optional, Sequence

from mmengine.hooks import Hook
from mmpretrain.utils import get_ori_model

from mmbyol.registry import HOOKS


@HOOKS.register_module()
class CompileHook(Hook):
    """``torch.compile`` BYOL's online and target networks (opt-in).

    Each named sub-module is compiled in place with
    :meth:`torch.nn.Module.compile`, so parameters, state-dict keys,
    the optimizer and the fused EMA are untouched: only how the forward
    (and its backward) is executed changes.  The loss, the EMA and the
    optimizer step stay eager.  Compilation happens lazily on the first
    iteration (minutes on a CPU), so it pays off only in long runs; it is
    not in any default config (see ``docs/speed.md`` for when it wins).

    Add it after :class:`ChannelsLastHook` if both are used, so the compiled
    graphs see NHWC weights::

        custom_hooks = [..., dict(type='CompileHook', mode='max-autotune')]

    Args:
        modules (Sequence[str]): sub-modules to compile; missing ones are
            skipped. Defaults to the online encoder, projector and predictor
            head, and the target encoder and projector.
        backend (str): ``torch.compile`` backend. Defaults to 'inductor'.
        mode (str, optional): ``torch.compile`` mode. Defaults to None.
        dynamic (bool, optional): ``torch.compile`` dynamic shapes.
            Defaults to False (BYOL batches have a fixed size).
    """

    priority = 'LOW'

    def __init__(self,
                 modules: Sequence[str] = ('backbone', 'neck', 'head',
                                           'target_backbone', 'target_neck'),
                 backend: str = 'inductor',
                 mode: Optional[str] = None,
                 dynamic: Optional[bool] = False) -> None:
        self.modules = tuple(modules)
        self.compile_kwargs = dict(backend=backend, mode=mode,
                                   dynamic=dynamic)

    def before_train(self, runner) -> None:
        self.apply(get_ori_model(runner.model))

    def apply(self, model) -> None:
        """Compile ``model``'s named sub-modules in place."""
        for name in self.modules:
            module = getattr(model, name, None)
            if module is not None:
                module.compile(**self.compile_kwargs)
