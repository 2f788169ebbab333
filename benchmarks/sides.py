"""One BYOL implementation under measurement: its Runner, stepped one
iteration at a time, and the measurements that need its context."""
from contextlib import contextmanager

import torch.nn as nn
from mmengine.config import Config
from mmengine.logging import MessageHub, MMLogger
from mmengine.registry import DefaultScope
from mmengine.runner import IterBasedTrainLoop, Runner
from mmengine.visualization import Visualizer

from benchmarks.instruments.syncs import SyncCounter
from mmbyol.utils import reuse_host_memory


class SteppedLoop(IterBasedTrainLoop):
    """``Runner.train()`` sets everything up; iterations run on demand."""

    def run(self):
        self.runner.call_hook('before_train')
        self.runner.call_hook('before_train_epoch')
        return self.runner.model

    def step(self) -> None:
        """One whole Runner iteration (loader, hooks, ``train_step``)."""
        self.runner.model.train()
        self.run_iter(next(self.dataloader_iterator))

    def finish(self) -> None:
        self.runner.call_hook('after_train_epoch')
        self.runner.call_hook('after_train')


class Side:
    """One BYOL implementation with its Runner, loop and measurements."""

    _host_memory = None  # the process's current reuse_host_memory setting

    def __init__(self, name: str, cfg: Config) -> None:
        self.name, self.scope = name, cfg.default_scope
        with DefaultScope.overwrite_default_scope(self.scope):
            self.runner = Runner.from_cfg(cfg)
        self.runner._train_loop = dict(type=SteppedLoop,
                                       max_iters=cfg.train_cfg.max_iters)
        self.batch_size = cfg.train_dataloader.batch_size
        self.times = dict(iteration=[], model_step=[])
        self.peak_mem = 0.0
        self.page_faults = []
        self.result = {}
        # the glibc setting of env_cfg, applied while this side runs (the
        # Runner's own setup_env is MMEngine's, which ignores the key)
        self.reuse_host_memory = bool(
            cfg.get('env_cfg', {}).get('reuse_host_memory', False))

    @contextmanager
    def active(self):
        """Make this side's scope, message hub, logger, visualizer current.

        MMPretrain's ``CosineEMA`` reads ``max_iters`` from the *current*
        message hub, which MMEngine defines as the last created one.
        """
        if Side._host_memory != self.reuse_host_memory:
            reuse_host_memory(self.reuse_host_memory)
            Side._host_memory = self.reuse_host_memory
        for cls, inst in ((MessageHub, self.runner.message_hub),
                          (MMLogger, self.runner.logger),
                          (Visualizer, self.runner.visualizer)):
            cls._instance_dict.move_to_end(inst.instance_name)
        with DefaultScope.overwrite_default_scope(self.scope):
            yield

    def setup(self) -> None:
        with self.active():
            self.runner.train()  # builds everything, runs before_train
        self.loop = self.runner.train_loop
        self.model = self.runner.model
        self.optim_wrapper = self.runner.optim_wrapper

    def train_step(self, batch) -> dict:
        """``model.train_step`` alone on a loaded batch."""
        return self.model.train_step(batch, optim_wrapper=self.optim_wrapper)

    def ema(self):
        """A callable doing one target update, as this side trains it."""
        model = getattr(self.model, 'module', self.model)
        if hasattr(model, 'update_target'):
            return lambda: model.update_target(0.996)
        online = nn.Sequential(model.backbone, model.neck)
        return lambda: model.target_net.update_parameters(online)

    def count_syncs(self, batch, site_name=str) -> dict:
        """Host-device syncs in one whole iteration (with the 12 busiest
        call sites, named by ``site_name``) and in optimizer step + EMA
        alone."""
        out = {}
        try:
            with self.active(), SyncCounter(locate=True) as whole:
                self.loop.step()
            out.update(
                syncs_per_iter=whole.count, syncs_by_op=dict(whole.by_op),
                cuda_syncs_per_iter=whole.cuda_count,
                sync_sites={site_name(k): v
                            for k, v in whole.sites.most_common(12)})
            model, wrapper = self.model, self.optim_wrapper
            with self.active():
                with wrapper.optim_context(model):
                    data = model.data_preprocessor(batch, True)
                    losses = model(**data, mode='loss')
                loss, _ = model.parse_losses(losses)
                wrapper.backward(loss)
                ema = None if hasattr(model, 'update_target') else self.ema()
                with SyncCounter() as step:
                    wrapper.step()  # mmbyol's EMA runs in its post-hook
                    if ema is not None:
                        ema()
                wrapper.zero_grad()
            out.update(syncs_optimizer_ema=step.count,
                       cuda_syncs_optimizer_ema=step.cuda_count)
        except Exception as err:  # noqa: BLE001  (reported, not fatal)
            out['syncs_error'] = f'{type(err).__name__}: {err}'
        return out
