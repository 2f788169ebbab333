"""Does BYOL learn? Pretrain a config on CIFAR-10 for a budget, then compare
kNN top-1 on held-out images of the BYOL encoder and of the same encoder at
random init, both measured in this run.

    python benchmarks/quality.py CONFIG --budget-minutes 30
    python benchmarks/quality.py CONFIG --epochs 200

Data: ``../shared/data/cifar10/train.tar.gz`` (50,000 JPEGs) is unpacked
once to ``--data-root`` (``benchmarks/cifar_jpegs.py``). BYOL trains on
images 0-4499 of each class (45,000, labels unused; the config's training
set is replaced by that folder, with the config's pipeline); the kNN bank
is the same 45,000 images with labels, the queries the held-out images
4500-4999 (5,000), never trained on. The kNN images are read as RGB
(``LoadRGBImage``, as the training views are) and go through the run's own
data preprocessor (``runner.model.data_preprocessor``, by ``KNNHook``).
The learning-rate schedule (linear warm-up, cosine) is fitted to the epochs
run; ``--budget-minutes`` times a few iterations first to pick the number
of epochs, and stops at an epoch end if the budget is overrun by 15%.

Output: a table (kNN top-1 and top-5 of both encoders) and JSON (stdout,
and ``--out``).
"""
import argparse
import math
import os.path as osp
import sys
import time
from pathlib import Path

if __package__ in (None, ''):  # `python benchmarks/quality.py`: the repo root
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch
from mmengine.config import Config, DictAction
from mmengine.hooks import Hook
from mmengine.runner import Runner

from benchmarks.cifar_jpegs import (ARCHIVE, ROOT, is_held_out, unpack,
                                    use_images)
from benchmarks.report import print_report
from mmbyol import register_all_modules
from mmbyol.engine.hooks import KNNHook
from mmbyol.evaluation.splits import (balanced_subset, scan_class_folders,
                                      write_ann_file)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('config', help='a BYOL pretraining config (CIFAR views)')
    budget = p.add_mutually_exclusive_group(required=True)
    budget.add_argument('--budget-minutes', type=float,
                        help='training wall-time budget')
    budget.add_argument('--epochs', type=int, help='train this many epochs')
    p.add_argument('--warmup-epochs', type=float, default=0.1,
                   help='warm-up: epochs, or a fraction of them if < 1')
    p.add_argument('--data-tar', type=Path, default=ARCHIVE)
    p.add_argument('--data-root', type=Path, default=ROOT)
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
    p.add_argument('--out', help='also write the JSON here')
    p.add_argument('--cfg-options', nargs='+', action=DictAction)
    return p.parse_args(argv)


def _labelled(root: Path, split: str) -> tuple:
    """Classes and ``[(split/class/file, label), ...]`` of ``root/split``."""
    classes, files = scan_class_folders(str(root / split))
    return classes, [(f'{split}/{c}/{f}', label)
                     for label, c in enumerate(classes) for f in files[c]]


def prepare_data(args) -> dict:
    """Unpack once; the training indices and the kNN bank / held-out
    lists."""
    try:
        root = unpack(args.data_tar, args.data_root)
    except FileNotFoundError as err:
        sys.exit(f'error: {err} (--data-tar)')
    classes, train = _labelled(root, 'train')
    _, held = _labelled(root, 'held_out')
    assert not any(is_held_out(p) for p, _ in train)
    assert all(is_held_out(p) for p, _ in held)
    index = {p: i for i, (p, _) in enumerate(train)}
    subset = train if args.train_fraction >= 1 else balanced_subset(
        train, args.train_fraction, args.seed)
    bank = train if args.bank_fraction >= 1 else balanced_subset(
        train, args.bank_fraction, args.seed)
    lists = dict(bank=bank, held_out=held)
    paths = {}
    for name, samples in lists.items():
        paths[name] = str(root.resolve() / 'meta_benchmark' / f'{name}.txt')
        write_ann_file(paths[name], samples)
    # ImageFolderDataset lists train/ in the same sorted order
    indices = None if subset is train else [index[p] for p, _ in subset]
    return dict(root=root, classes=classes, paths=paths, indices=indices,
                sizes=dict(train=len(subset), bank=len(bank),
                           held_out=len(held)))


def image_size(node, default: int = 32) -> int:
    """The side of the training views: ``BYOLViews``' ``size`` or a
    ``RandomResizedCrop``'s ``scale``, at any depth (or ``default``)."""
    if isinstance(node, dict):
        key = dict(BYOLViews='size', RandomResizedCrop='scale').get(
            str(node.get('type')).split('.')[-1])
        if key and node.get(key) is not None:
            size = node[key]
            return size if isinstance(size, int) else size[0]
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
    extra = {} if data['indices'] is None else dict(indices=data['indices'])
    use_images(cfg, data['root'] / 'train', **extra)
    loader = cfg.train_dataloader
    if args.num_workers is not None:
        loader.num_workers = args.num_workers
        loader.persistent_workers = args.num_workers > 0
    size = image_size(loader.dataset.pipeline)
    # RGB, as the training views: the encoder's preprocessor does not swap
    eval_pipeline = [dict(type='LoadRGBImage')]
    if size != 32:
        eval_pipeline.append(dict(type='Resize', scale=(size, size),
                                  backend='pillow', interpolation='bicubic'))
    eval_pipeline.append(dict(type='PackInputs'))

    def eval_loader(name):
        return dict(batch_size=512, num_workers=loader.num_workers,
                    dataset=dict(type='CustomDataset',
                                 data_root=str(data['root']),
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
    print_report(result, table(result, runner.epoch), args.out)
    return result


def table(result: dict, epochs: int) -> str:
    """Both encoders' kNN accuracies as a Markdown table."""
    return (f"| encoder | kNN top-1 | kNN top-5 |\n|---|---|---|\n"
            f"| random init | {result['knn_top1_random_init']:.4f} | "
            f"{result['knn_top5_random_init']:.4f} |\n"
            f"| BYOL, {epochs} epochs ({result['train_minutes']} min "
            f"training) | {result['knn_top1_byol']:.4f} | "
            f"{result['knn_top5_byol']:.4f} |\n"
            f"BYOL - random init: {result['gain_points']:+.1f} points")


if __name__ == '__main__':
    main()
