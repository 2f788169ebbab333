"""Imported (via ``custom_imports``) only by the subprocesses of
``tests/test_distributed.py``: each rank writes its weights and the sample
indices it trained on."""
import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook

from mmbyol.registry import HOOKS


@HOOKS.register_module()
class RankDumpHook(Hook):

    def __init__(self) -> None:
        self.seen = []

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        self.seen.append([int(s.sample_idx)
                          for s in data_batch['data_samples']])

    def after_train(self, runner) -> None:
        model = getattr(runner.model, 'module', runner.model)
        torch.save(dict(state=model.state_dict(), seen=self.seen,
                        wrapper=type(runner.model).__name__),
                   f'{runner.work_dir}/rank{get_rank()}.pt')


@HOOKS.register_module()
class ZeroStdOnRankHook(Hook):
    """On rank ``rank`` only, divides the inputs of iteration ``at`` by zero
    (a NaN that arises inside the forward pass); every rank saves its model
    state from just before and just after that iteration."""

    def __init__(self, rank: int, at: int) -> None:
        self.rank, self.at = rank, at

    def _state(self, runner):
        model = getattr(runner.model, 'module', runner.model)
        return {k: v.detach().clone() for k, v in model.state_dict().items()}

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        if runner.iter != self.at:
            return
        self.before = self._state(runner)
        model = getattr(runner.model, 'module', runner.model)
        self.std = model.data_preprocessor.std
        self.saved = self.std.clone()
        if get_rank() == self.rank:
            self.std.zero_()

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        if runner.iter != self.at:
            return
        self.std.copy_(self.saved)
        torch.save(dict(before=self.before, after=self._state(runner)),
                   f'{runner.work_dir}/skipped{get_rank()}.pt')
