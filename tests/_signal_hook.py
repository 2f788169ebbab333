"""Imported (via ``custom_imports``) by tests that run tools/train.py in a
subprocess: the process sends itself a signal during one iteration."""
import os

from mmengine.hooks import Hook

from mmbyol.registry import HOOKS


@HOOKS.register_module()
class SignalAtHook(Hook):
    """Sends ``signum`` to this process during iteration ``at`` (0-based),
    as a cluster's preemption or a Ctrl-C would."""

    def __init__(self, at: int, signum: int) -> None:
        self.at, self.signum = at, signum

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        if runner.iter == self.at:
            os.kill(os.getpid(), self.signum)
