"""MMEngine's Runner with safe loading, exact resume and crash-safe saves."""
import copy
import datetime
import os
from typing import Optional

import torch
from mmengine.dataset import DefaultSampler
from mmengine.device import get_device
from mmengine.dist import barrier, is_distributed, is_main_process
from mmengine.hooks import CheckpointHook
from mmengine.logging import MessageHub, MMLogger
from mmengine.model import convert_sync_batchnorm, is_model_wrapper
from mmengine.registry import DATASETS, DefaultScope
from mmengine.runner import (EpochBasedTrainLoop, IterBasedTrainLoop,
                             Runner)
from mmengine.visualization import Visualizer
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader

from mmbyol.engine.hooks import BYOLMomentumHook
from mmbyol.engine.preflight import check_batch_size
from mmbyol.registry import MODEL_WRAPPERS, RUNNERS
from mmbyol.utils.errors import ConfigError
from mmbyol.utils.host_memory import reuse_host_memory
from .checkpoint_files import remove_temporaries
from .checkpoint_hook import AtomicCheckpointHook
from .checkpoint_io import CheckpointIO
from .loops import ResumableEpochBasedTrainLoop, ResumableIterBasedTrainLoop
from .num_classes import check_classes, dataset_classes, fill_num_classes
from .sampler import PerSampleSeeded, ResumableSampler
from .stop_signal import StopRequest

_LOOPS = {
    'EpochBasedTrainLoop': ResumableEpochBasedTrainLoop,
    EpochBasedTrainLoop: ResumableEpochBasedTrainLoop,
    'IterBasedTrainLoop': ResumableIterBasedTrainLoop,
    IterBasedTrainLoop: ResumableIterBasedTrainLoop,
}


def _unused_timestamp(stamp: str) -> str:
    """``stamp``, or ``stamp_1``, ``stamp_2``, ... if a runner of this
    process already named its instances after it.

    MMEngine names a run's logger, message hub, visualizer, default scope
    and log folder after its start time in seconds; a second runner started
    in the same second would silently share them (and write its scalars into
    the first one's files). Only this process's instances are checked, so
    every rank of a distributed run makes the same choice.
    """
    managers = (MessageHub, MMLogger, Visualizer, DefaultScope)
    taken = {name for cls in managers for name in cls._instance_dict}
    candidate, n = stamp, 0
    while any(name == candidate or name.endswith(f'_{candidate}')
              for name in taken):
        n += 1
        candidate = f'{stamp}_{n}'
    return candidate


@RUNNERS.register_module()
class ReliableRunner(CheckpointIO, Runner):
    """:class:`mmengine.runner.Runner` that a week-long run can trust.

    Select it with ``runner_type = 'mmbyol.ReliableRunner'`` (mmbyol's
    ``default_runtime.py`` does).  Same arguments and config keys; it

    * loads every checkpoint (``resume``, ``load_from``) with
      :func:`~mmbyol.utils.load_checkpoint_safely` (``weights_only=True``),
      and refuses one that does not fit the model (missing, unexpected or
      other-shaped tensors) unless the config sets ``load_partial=True``;
      ``--resume`` takes only a training checkpoint of this runner;
    * saves atomically (temporary file, fsync, rename; the temporary file is
      removed when the save fails) through :class:`AtomicCheckpointHook`,
      which replaces ``CheckpointHook``; a model holding non-finite weights
      or statistics is never saved; temporary files of interrupted saves are
      removed before anything else writes to the work dir;
    * stops on SIGTERM or SIGINT after the current iteration with a
      resumable checkpoint (:class:`~.stop_signal.StopRequest`);
    * resumes exactly: the checkpoint's ``meta.resume_state`` holds every
      rank's Python/numpy/torch(/CUDA) random state and the sampler seed;
      ``DefaultSampler`` becomes :class:`ResumableSampler` (same order, plus
      per-sample augmentation seeds) and the stock train loops their
      ``Resumable*`` subclasses, which start inside an epoch;
    * ``resume=True`` without ``load_from`` (``--resume``) takes the
      checkpoint of the work dir with the furthest training progress (by
      its name: ``iter_N``/``epoch_N``), skipping unreadable ones with a
      warning; a checkpoint with foreign pickled objects stops the run;
    * moves BYOL's target network: a model with ``update_target`` and no
      :class:`BYOLMomentumHook` in the config gets one (with
      ``1 - model.base_momentum`` as ``base_tau`` when set);
    * trains multi-process on CPU: gloo instead of nccl, DDP without
      ``device_ids``, ``sync_bn`` ignored with a warning (SyncBN needs a
      GPU), and :class:`GuardedDistributedDataParallel` as the default
      wrapper so the non-finite-loss guard holds under DDP;
    * refuses a training batch larger than what each process gets;
    * with ``env_cfg = dict(reuse_host_memory=True)`` (mmbyol's default
      runtime) keeps freed host memory for reuse
      (:func:`~mmbyol.utils.reuse_host_memory`).
    """

    @classmethod
    def from_cfg(cls, cfg):
        """MMEngine's, with a classifier's ``num_classes=None`` taken from
        its training data (:func:`~.num_classes.fill_num_classes`)."""
        cfg = copy.deepcopy(cfg)
        fill_num_classes(cfg)
        return super().from_cfg(cfg)

    # ------------------------------------------------------------ building
    def setup_env(self, env_cfg: dict) -> None:
        env_cfg = copy.deepcopy(env_cfg)
        if env_cfg.pop('reuse_host_memory', False):
            reuse_host_memory(True)  # before the loader workers fork
        if self.distributed and not torch.cuda.is_available():
            dist_cfg = env_cfg.setdefault('dist_cfg', {})
            if dist_cfg.get('backend', 'nccl') == 'nccl':
                dist_cfg['backend'] = 'gloo'
            if self.launcher == 'pytorch' and not is_distributed():
                # MMEngine's init_dist calls torch.cuda.set_device first.
                kwargs = dict(dist_cfg)
                if isinstance(kwargs.get('timeout'), (int, float)):
                    kwargs['timeout'] = datetime.timedelta(
                        seconds=kwargs['timeout'])
                torch.distributed.init_process_group(**kwargs)
        super().setup_env(env_cfg)
        self._timestamp = _unused_timestamp(self._timestamp)
        # Before the logger, the visualizer and the config dump write into
        # the work dir: what interrupted saves left there takes no space.
        self._removed_temporaries = (remove_temporaries(self.work_dir)
                                     if is_main_process() else [])
        self.stop_request = StopRequest()

    def register_default_hooks(self, hooks: Optional[dict] = None) -> None:
        hooks = dict(hooks or {})
        ckpt = hooks.get('checkpoint', dict(type='CheckpointHook',
                                            interval=1))
        if isinstance(ckpt, dict) and ckpt.get(
                'type') in ('CheckpointHook', CheckpointHook):
            hooks['checkpoint'] = dict(ckpt, type=AtomicCheckpointHook)
        super().register_default_hooks(hooks)

    def register_hooks(self, default_hooks=None, custom_hooks=None) -> None:
        super().register_hooks(default_hooks, custom_hooks)
        model = self.model.module if is_model_wrapper(
            self.model) else self.model
        if not hasattr(model, 'update_target'):
            return
        base_tau = getattr(model, 'base_tau', None)
        hooks = [h for h in self.hooks if isinstance(h, BYOLMomentumHook)]
        if not hooks:
            base_tau = 0.996 if base_tau is None else base_tau
            self.register_hook(BYOLMomentumHook(base_tau=base_tau))
            self.logger.info(
                'no BYOLMomentumHook in the config: the target network moves '
                f'with base_tau={base_tau} after every optimizer step')
        elif base_tau is not None and hooks[0].schedule.base_tau != base_tau:
            raise ConfigError(
                f'model.base_momentum={1 - base_tau:g} (base_tau '
                f'{base_tau:g}) disagrees with the BYOLMomentumHook\'s '
                f'base_tau={hooks[0].schedule.base_tau:g}: set one of them')

    def build_train_loop(self, loop):
        if isinstance(loop, dict):
            loop = copy.deepcopy(loop)
            if 'type' not in loop and 'by_epoch' in loop:
                loop['type'] = ('EpochBasedTrainLoop' if loop.pop('by_epoch')
                                else 'IterBasedTrainLoop')
            loop['type'] = _LOOPS.get(loop.get('type'), loop.get('type'))
        built = super().build_train_loop(loop)
        check_batch_size(built.dataloader, 'train_dataloader.batch_size')
        check_classes(self._unwrapped(),
                      dataset_classes(built.dataloader.dataset))
        return built

    def build_val_loop(self, loop):
        built = super().build_val_loop(loop)
        if built is not None and self._train_loop is not None and \
                not isinstance(self._train_loop, dict):
            check_classes(
                self._unwrapped(),
                dataset_classes(self._train_loop.dataloader.dataset),
                dataset_classes(built.dataloader.dataset))
        return built

    @staticmethod
    def build_dataloader(dataloader, seed: Optional[int] = None,
                         diff_rank_seed: bool = False) -> DataLoader:
        """MMEngine's, with ``DefaultSampler`` -> :class:`ResumableSampler`
        (+ :class:`PerSampleSeeded`) and a private generator for the
        loader, so that creating an iterator draws nothing from torch's
        global generator. ``persistent_workers`` is dropped where
        ``num_workers`` is 0 (PyTorch refuses the pair), so that
        ``--cfg-options train_dataloader.num_workers=0`` works on configs
        that keep their workers."""
        if isinstance(dataloader, DataLoader):
            return dataloader
        cfg = copy.deepcopy(dataloader)
        if not cfg.get('num_workers', 0) and cfg.get('persistent_workers'):
            cfg['persistent_workers'] = False
        sampler = cfg.get('sampler')
        if isinstance(sampler, dict) and sampler.get('type') in (
                'DefaultSampler', DefaultSampler):
            dataset = cfg['dataset']
            if isinstance(dataset, dict):
                dataset = DATASETS.build(dataset)
                if hasattr(dataset, 'full_init'):
                    dataset.full_init()
            cfg['sampler'] = dict(sampler, type=ResumableSampler)
            cfg['dataset'] = PerSampleSeeded(dataset)
        loader = Runner.build_dataloader(cfg, seed=seed,
                                         diff_rank_seed=diff_rank_seed)
        loader.generator = torch.Generator().manual_seed(
            getattr(loader.sampler, 'seed', seed or 0) % 2**63)
        return loader

    def wrap_model(self, model_wrapper_cfg: Optional[dict], model):
        if not self.distributed or is_model_wrapper(model):
            return super().wrap_model(model_wrapper_cfg, model)
        device = get_device()
        model = model.to(device)
        sync_bn = self.cfg.get('sync_bn', None)
        if sync_bn is not None and device == 'cpu':
            self.logger.warning(
                f'sync_bn={sync_bn!r} ignored: SyncBatchNorm needs a GPU; '
                'every process keeps its own BatchNorm statistics')
        elif sync_bn is not None:
            model = convert_sync_batchnorm(model, sync_bn)
        cfg = dict(model_wrapper_cfg or dict(
            broadcast_buffers=False,
            find_unused_parameters=self.cfg.get('find_unused_parameters',
                                                False)))
        cfg.setdefault('type', 'GuardedDistributedDataParallel')
        default_args = dict(module=model)
        if issubclass(MODEL_WRAPPERS.get(cfg['type']),
                      DistributedDataParallel):
            default_args['device_ids'] = None if device == 'cpu' else [
                int(os.environ['LOCAL_RANK'])
            ]
        return MODEL_WRAPPERS.build(cfg, default_args=default_args)

    def _unwrapped(self):
        return self.model.module if is_model_wrapper(
            self.model) else self.model

    # ------------------------------------------------------------ training
    def train(self):
        """MMEngine's, with SIGTERM/SIGINT turned into a checkpoint and a
        clean stop after the current iteration. Ranks return together,
        once rank 0 has written the last checkpoint: a rank that exits
        while a peer still writes can abort in the gloo backend."""
        self.stop_request.install()
        try:
            model = super().train()
        finally:
            self.stop_request.uninstall()
        barrier()
        return model
