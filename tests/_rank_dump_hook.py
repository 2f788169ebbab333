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
