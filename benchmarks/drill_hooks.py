"""A hook the fault drill loads into its training runs (``custom_imports``):
a NaN that arises inside the forward pass at one iteration."""
from mmengine.hooks import Hook
from mmpretrain.utils import get_ori_model

from mmbyol.registry import HOOKS


@HOOKS.register_module()
class ZeroStdAtHook(Hook):
    """Sets the data preprocessor's std to zero for iteration ``at``
    (0-based), so the normalised inputs, and with them the loss, are NaN or
    inf; puts it back after the iteration."""

    def __init__(self, at: int) -> None:
        self.at = at

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        if runner.iter == self.at:
            std = get_ori_model(runner.model).data_preprocessor.std
            self._saved = std.clone()
            std.zero_()

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        if runner.iter == self.at:
            get_ori_model(runner.model).data_preprocessor.std.copy_(
                self._saved)
