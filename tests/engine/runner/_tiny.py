"""A tiny BYOL run on ReliableRunner, shared by the reliability tests."""
import copy

import torch
from mmengine.config import Config

from mmbyol.registry import RUNNERS
from tests.conftest import digits_runner_cfg


def tiny_cfg(work_dir, loop: str = 'iter', max_iters: int = 6,
             epochs: int = 2, num_workers: int = 0, ckpt_interval: int = 3,
             samples: int = 24, batch_size: int = 8, **overrides) -> Config:
    """Digits (``samples`` of them), batch 8, LARS-free SGD, cosine lr,
    checkpoints every ``ckpt_interval`` iterations; deterministic."""
    cfg = digits_runner_cfg(work_dir, max_iters=max_iters,
                            batch_size=batch_size)
    cfg['runner_type'] = 'ReliableRunner'
    cfg['randomness'] = dict(seed=0, deterministic=True)
    loader = cfg['train_dataloader']
    loader.update(num_workers=num_workers, drop_last=True,
                  persistent_workers=num_workers > 0)
    loader['dataset']['indices'] = samples
    if loop == 'iter':
        cfg['train_cfg'] = dict(type='IterBasedTrainLoop',
                                max_iters=max_iters)
        total = max_iters
    else:
        cfg['train_cfg'] = dict(type='EpochBasedTrainLoop',
                                max_epochs=epochs)
        total = epochs * (samples // batch_size)
    cfg['param_scheduler'] = [
        dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0,
             end=2),
        dict(type='CosineAnnealingLR', by_epoch=False, begin=2, end=total),
    ]
    cfg['default_hooks']['checkpoint'] = dict(
        type='CheckpointHook', interval=ckpt_interval, by_epoch=False)
    cfg['env_cfg'] = dict(mp_cfg=dict(mp_start_method='fork'))
    cfg.update(overrides)
    return Config(copy.deepcopy(cfg))


def train(cfg: Config):
    """Build the runner from ``cfg``, train, return it."""
    runner = RUNNERS.build(cfg)
    runner.train()
    return runner


def weights(runner) -> dict:
    """Online + target weights and buffers (state dict, cloned)."""
    model = getattr(runner.model, 'module', runner.model)
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def assert_same_weights(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), f'{key} differs'
    assert any(k.startswith('target_') for k in a)
