"""Does BYOL learn? Pretrain a config on CIFAR-10 for a budget, then compare
kNN top-1 on held-out images of the BYOL encoder and of the same encoder at
random init, both measured in this run.

    python tools/benchmark_quality.py CONFIG --budget-minutes 30
    python tools/benchmark_quality.py CONFIG --epochs 200

Data: ``../shared/data/cifar10/train.tar.gz`` (50,000 JPEGs) is unpacked
once to ``--data-root``. BYOL trains on images 0-4499 of each class (45,000,
labels unused); the kNN bank is the same 45,000 images with labels, the
queries the held-out images 4500-4999 (5,000), never trained on. The
learning-rate schedule (linear warm-up, cosine) is fitted to the epochs
run; ``--budget-minutes`` times a few iterations first to pick the number
of epochs, and stops at an epoch end if the budget is overrun by 15%.
"""
import argparse
import json
import math
import os
import os.path as osp
import sys
import tarfile
import time

import torch
from mmengine.config import Config, DictAction
from mmengine.hooks import Hook
from mmengine.runner import Runner

from mmbyol.engine.hooks import KNNHook
from mmbyol.evaluation.splits import (balanced_subset, held_out_split,
                                      scan_class_folders, write_ann_file)
from mmbyol.utils import register_all_modules

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEFAULT_TAR = osp.join(REPO, '..', 'shared', 'data', 'cifar10',
                       'train.tar.gz')


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('config', help='a BYOL pretraining config (CIFAR views)')
    budget = p.add_mutually_exclusive_group(required=True)
    budget.add_argument('--budget-minutes', type=float,
                        help='training wall-time budget')
    budget.add_argument('--epochs', type=int, help='train this many epochs')
    p.add_argument('--warmup-epochs', type=float, default=0.1,
                   help='warm-up: epochs, or a fraction of them if < 1')
    p.add_argument('--data-tar', default=DEFAULT_TAR)
    p.add_argument('--data-root', default='data/cifar10_benchmark')
    p.add_argument('--work-dir', default='work_dirs/benchmark_quality')
    p.add_argument('--k', type=int, default=200)
    p.add_argument('--temperature', type=float, default=0.1)
    p.add_argument('--train-fraction', type=float, default=1.0,
                   help='class-balanced share of the 45,000 training '
                   'images (smoke tests)')
    p.add_argument('--bank-fraction', type=float, default=1.0,
                   help='class-balanced share of them as kNN bank')
    p.add_argument('--num-workers', type=int)
    p.add_argument('--threads', type=int, help='torch.set_num_threads')
    p.add_argument('--calibration-iters', type=int, default=8)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--cfg-options', nargs='+', action=DictAction)
    return p.parse_args(argv)


def prepare_data(args) -> dict:
    """Unpack once; write the train / kNN-bank / held-out lists."""
    image_root = osp.join(args.data_root, 'train')
    if not osp.isdir(image_root):
        if not osp.isfile(args.data_tar):
            sys.exit(f'error: {args.data_tar} not found (--data-tar)')
        print(f'unpacking {args.data_tar} to {args.data_root} ...')
        os.makedirs(args.data_root, exist_ok=True)
        with tarfile.open(args.data_tar) as tar:
            tar.extractall(args.data_root, filter='data')
    classes, files = scan_class_folders(image_root)
    train, held = held_out_split(classes, files, 4500, 4999)
    lists = dict(held_out=held)
    lists['train'] = train if args.train_fraction >= 1 else balanced_subset(
        train, args.train_fraction, args.seed)
    lists['bank'] = train if args.bank_fraction >= 1 else balanced_subset(
        train, args.bank_fraction, args.seed)
    meta = osp.abspath(osp.join(args.data_root, 'meta_benchmark'))
    paths = {}
    for name, samples in lists.items():
        paths[name] = osp.join(meta, f'{name}.txt')
        write_ann_file(paths[name], samples)
    assert not {p for p, _ in held} & {p for p, _ in train}
    return dict(classes=classes, paths=paths,
                sizes={k: len(v) for k, v in lists.items()})


def image_size(node, default: int = 32) -> int:
    """The ``RandomResizedCrop`` size of the training views (or 32)."""
    if isinstance(node, dict):
        if node.get('type') == 'RandomResizedCrop':
            scale = node.get('scale', default)
            return scale if isinstance(scale, int) else scale[0]
        node = list(node.values())
    if isinstance(node, (list, tuple)):
        for item in node:
            size = image_size(item, None)
            if size:
                return size
    return default


def build_cfg(args, data: dict, epochs: int, work_dir: str) -> Config:
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    cfg.work_dir = work_dir
    cfg.randomness = dict(seed=args.seed)
    loader = cfg.train_dataloader
    loader.dataset = dict(
        type='CustomDataset', data_root=args.data_root, data_prefix='train',
        ann_file=data['paths']['train'], with_label=True,
        metainfo=dict(classes=data['classes']),
        pipeline=loader.dataset.pipeline)
    if args.num_workers is not None:
        loader.num_workers = args.num_workers
        loader.persistent_workers = args.num_workers > 0
    size = image_size(loader.dataset.pipeline)
    eval_pipeline = [dict(type='LoadImageFromFile')]
    if size != 32:
        eval_pipeline.append(dict(type='Resize', scale=(size, size),
                                  backend='pillow', interpolation='bicubic'))
    eval_pipeline.append(dict(type='PackInputs'))

    def eval_loader(name):
        return dict(batch_size=512, num_workers=loader.num_workers,
                    dataset=dict(type='CustomDataset',
                                 data_root=args.data_root,
                                 data_prefix='train',
                                 ann_file=data['paths'][name],
                                 with_label=True,
                                 metainfo=dict(classes=data['classes']),
                                 pipeline=eval_pipeline))

    hooks = [h for h in cfg.get('custom_hooks', [])
             if h['type'] != 'KNNHook']
    hooks.append(dict(type='KNNHook', bank_dataloader=eval_loader('bank'),
                      query_dataloader=eval_loader('held_out'),
                      interval=max(1, epochs), by_epoch=True, k=args.k,
                      temperature=args.temperature, eval_before_train=True,
                      num_classes=len(data['classes'])))
    cfg.custom_hooks = hooks
    warmup = args.warmup_epochs
    warmup = round(warmup * epochs) if warmup < 1 else int(warmup)
    warmup = min(max(warmup, 0), epochs - 1)
    cfg.param_scheduler = ([
        dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0,
             end=warmup, convert_to_iter_based=True)
    ] if warmup else []) + [
        dict(type='CosineAnnealingLR', T_max=epochs - warmup, eta_min=0.0,
             by_epoch=True, begin=warmup, end=epochs,
             convert_to_iter_based=True)
    ]
    cfg.train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=epochs)
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook',
                                        interval=epochs, max_keep_ckpts=1)
    cfg.pop('val_dataloader', None)
    return cfg


class _CalibrationDone(Exception):
    pass


class _Timer(Hook):
    """Seconds per training iteration after ``skip`` warm-up iterations;
    stops at the first epoch end past ``limit_s``."""
    priority = 'VERY_LOW'

    def __init__(self, skip=2, stop_after=None, limit_s=None):
        self.skip, self.stop_after, self.limit_s = skip, stop_after, limit_s
        self.times, self.start, self.stopped_early = [], None, False

    def before_train(self, runner):
        self.train_start = time.perf_counter()

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        self.start = time.perf_counter()

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        self.times.append(time.perf_counter() - self.start)
        if self.stop_after and len(self.times) >= self.stop_after:
            raise _CalibrationDone

    def after_train_epoch(self, runner):
        elapsed = time.perf_counter() - self.train_start
        if self.limit_s and elapsed > self.limit_s and \
                runner.epoch < runner.max_epochs:
            runner.train_loop.stop_training = True
            self.stopped_early = True

    def seconds_per_iter(self):
        steady = self.times[self.skip:] or self.times
        return sum(steady) / len(steady)


def calibrate(args, data) -> tuple:
    """Time a few iterations; return ``(seconds/iter, iters/epoch)``."""
    cfg = build_cfg(args, data, 1, osp.join(args.work_dir, 'calibration'))
    cfg.custom_hooks = [h for h in cfg.custom_hooks
                        if h['type'] != 'KNNHook']
    runner = Runner.from_cfg(cfg)
    timer = _Timer(stop_after=args.calibration_iters + 2)
    runner.register_hook(timer)
    try:
        runner.train()
    except _CalibrationDone:
        pass
    return timer.seconds_per_iter(), len(runner.train_dataloader)


def main(argv=None):
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    register_all_modules(init_default_scope=False)
    data = prepare_data(args)
    plan = {}
    if args.budget_minutes:
        sec_iter, iters_epoch = calibrate(args, data)
        epochs = max(1, int(args.budget_minutes * 60 //
                            (sec_iter * iters_epoch)))
        plan = dict(calibrated_s_per_iter=round(sec_iter, 4),
                    iters_per_epoch=iters_epoch)
    else:
        epochs = args.epochs
    cfg = build_cfg(args, data, epochs, osp.join(args.work_dir, 'run'))
    runner = Runner.from_cfg(cfg)
    timer = _Timer(limit_s=args.budget_minutes * 60 * 1.15
                   if args.budget_minutes else None)
    runner.register_hook(timer)
    start = time.perf_counter()
    runner.train()
    total = time.perf_counter() - start
    knn = next(h for h in runner.hooks if isinstance(h, KNNHook))
    (_, initial), (_, final) = knn.history[0], knn.history[-1]
    train_s = sum(timer.times)
    result = dict(
        config=args.config, cfg_options=args.cfg_options,
        data=f"CIFAR-10 JPEGs: BYOL on {data['sizes']['train']} images "
        f"(0-4499 of each class), kNN bank {data['sizes']['bank']}, "
        f"queries: the {data['sizes']['held_out']} held-out images "
        '4500-4999 of each class',
        epochs_planned=epochs, epochs_run=runner.epoch, iters=runner.iter,
        stopped_early=timer.stopped_early,
        train_minutes=round(train_s / 60, 2),
        total_minutes=round(total / 60, 2), knn_k=args.k,
        knn_temperature=args.temperature,
        knn_top1_random_init=round(initial['knn/top1'], 4),
        knn_top1_byol=round(final['knn/top1'], 4),
        knn_top5_random_init=round(initial.get('knn/top5', math.nan), 4),
        knn_top5_byol=round(final.get('knn/top5', math.nan), 4),
        threads=torch.get_num_threads(), **plan)
    result['gain_points'] = round(
        100 * (final['knn/top1'] - initial['knn/top1']), 1)
    print(json.dumps(result))
    print(f"\n| encoder | kNN top-1 | kNN top-5 |\n|---|---|---|\n"
          f"| random init | {result['knn_top1_random_init']:.4f} | "
          f"{result['knn_top5_random_init']:.4f} |\n"
          f"| BYOL, {runner.epoch} epochs ({result['train_minutes']} min "
          f"training) | {result['knn_top1_byol']:.4f} | "
          f"{result['knn_top5_byol']:.4f} |\n"
          f"BYOL - random init: {result['gain_points']:+.1f} points")
    return result


if __name__ == '__main__':
    main()
