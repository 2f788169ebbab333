"""BYOL to Mask R-CNN, end to end, on a small COCO-format set.

    .venv-detection/bin/python benchmarks/detection/finetune.py \\
        [--work-dir work_dirs/detection] [--archs fpn c4]

1. builds the set of :mod:`cifar_coco` (CIFAR-10 objects pasted on
   canvases; ``val`` holds only the held-out images 4500-4999);
2. pretrains BYOL's ResNet-50 briefly on CIFAR-10 images 0 to N-1 of each
   class (``tools/train.py``, the paper's config at a small size);
3. exports its online encoder (``tools/extract_backbone.py --format
   mmdet``);
4. fine-tunes Mask R-CNN from ``configs/benchmarks/mask-rcnn_r50-*`` with
   MMDetection's Runner, after checking that the detector's backbone holds
   the exported tensors;
5. evaluates on ``val`` with MMDetection's ``CocoMetric`` (bbox and segm).

Prints one JSON object (also written to WORK_DIR/results.json) and a table.
The small-set settings (canvas size, iterations, lr, fewer RoIs) are in
:func:`small_set_config` and in the JSON; the model is the config's.
"""
import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cifar_coco  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
BYOL_CONFIG = REPO / 'configs' / 'byol_resnet50_8xb32-coslr-300e_in1k.py'
DET_CONFIGS = {
    arch: REPO / 'configs' / 'benchmarks' /
    f'mask-rcnn_r50-{arch}_8xb2-1x_coco.py' for arch in ('fpn', 'c4')}


class InitCheckHook(Hook):
    """Before the first iteration (after ``init_weights``), compare every
    tensor of the detector's ResNet (and of a C4 shared head) with the
    exported file; the result is kept in ``self.result``."""

    priority = 'VERY_HIGH'

    def __init__(self, export_path):
        self.export = torch.load(export_path, map_location='cpu',
                                 weights_only=True)['state_dict']
        self.result = None

    def before_train(self, runner):
        model = runner.model.module if is_model_wrapper(runner.model) \
            else runner.model
        held = dict(model.backbone.state_dict())
        shared = getattr(model.roi_head, 'shared_head', None)
        if shared is not None:
            held.update(shared.state_dict())  # keys `layer4.*`
        diffs = [(held[k].double() - v.double()).abs().max().item()
                 for k, v in self.export.items() if k in held]
        self.result = dict(
            tensors_compared=len(diffs), tensors_exported=len(self.export),
            max_abs_diff=max(diffs),
            example=dict(key='layer1.0.conv1.weight',
                         detector=held['layer1.0.conv1.weight'].flatten()[:3]
                         .tolist(),
                         export=self.export['layer1.0.conv1.weight']
                         .flatten()[:3].tolist()))


def pretrain_byol(work, folder, size, batch, epochs):
    """``tools/train.py`` on the paper's ResNet-50 config, small; returns
    the last checkpoint."""
    cmd = [sys.executable, str(REPO / 'tools' / 'train.py'), str(BYOL_CONFIG),
           '--work-dir', str(work), '--cfg-options',
           f'train_dataloader.dataset.data_root={folder.parent}',
           f'train_dataloader.dataset.data_prefix={folder.name}',
           f'train_dataloader.batch_size={batch}',
           'train_dataloader.num_workers=1',
           f'train_dataloader.dataset.pipeline.1.size={size}',
           f'train_cfg.max_epochs={epochs}',
           f'param_scheduler.0.end={epochs}',  # warm-up over the whole run
           f'default_hooks.checkpoint.interval={epochs}',
           'default_hooks.logger.interval=5',
           'randomness.seed=0']
    subprocess.run(cmd, check=True, cwd=REPO)
    return (Path(work) / f'epoch_{epochs}.pth').resolve()


def export_backbone(checkpoint, out):
    tool = REPO / 'tools' / 'extract_backbone.py'
    subprocess.run([sys.executable, str(tool), str(checkpoint), str(out),
                    '--format', 'mmdet'], check=True, cwd=REPO)
    return out


def small_set_config(arch, data_root, export, work_dir, iters, canvas, lr,
                     rois, seed=0):
    """The benchmark config with the small set's data, schedule and RoI
    counts; everything else (model, losses, SyncBN, init) as it ships."""
    cfg = Config.fromfile(str(DET_CONFIGS[arch]))
    cfg.work_dir = str(work_dir)
    cfg.randomness = dict(seed=seed)
    model = cfg.model
    model.backbone.init_cfg.checkpoint = str(export)
    if model.roi_head.get('shared_head'):
        model.roi_head.shared_head.init_cfg.checkpoint = str(export)
    classes = cifar_coco.CLASSES
    model.roi_head.bbox_head.num_classes = len(classes)
    model.roi_head.mask_head.num_classes = len(classes)
    # at most 3 objects per image: fewer sampled RoIs and test proposals
    model.train_cfg.rcnn.sampler.num = rois
    model.test_cfg.rpn.max_per_img = 100

    for loader, split in ((cfg.train_dataloader, 'train'),
                          (cfg.test_dataloader, 'val')):
        loader.num_workers = 0
        loader.persistent_workers = False
        ds = loader.dataset
        ds.data_root = str(data_root)
        ds.ann_file = f'annotations/{split}.json'
        ds.data_prefix = dict(img=f'{split}/')
        ds.metainfo = dict(classes=classes)
        for step in ds.pipeline:
            if step.type == 'Resize':
                step.scale = (canvas, canvas)
    cfg.test_evaluator.ann_file = str(data_root / 'annotations' / 'val.json')
    cfg.val_dataloader = cfg.val_evaluator = cfg.val_cfg = None

    warmup = max(1, iters // 5)
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=iters)
    cfg.param_scheduler = [
        dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0,
             end=warmup),
        # the 1x schedule's drops at epochs 8 and 11 of 12
        dict(type='MultiStepLR', by_epoch=False, begin=0, end=iters,
             milestones=[iters * 8 // 12, iters * 11 // 12], gamma=0.1)]
    cfg.optim_wrapper.optimizer.lr = lr
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', by_epoch=False,
                                        interval=iters)
    cfg.log_processor = dict(type='LogProcessor', window_size=1,
                             by_epoch=False)
    return cfg


def summarise_losses(message_hub, window):
    """Mean of each loss over the first and the last ``window`` iterations."""
    out = {}
    for key, buf in message_hub.log_scalars.items():
        if key.startswith('train/loss'):
            values = buf.data[0].tolist()
            out[key[len('train/'):]] = dict(
                first=sum(values[:window]) / len(values[:window]),
                last=sum(values[-window:]) / len(values[-window:]),
                per_iter=[round(v, 4) for v in values])
    return out


def finetune(arch, data_root, export, work, iters, canvas, lr, rois):
    cfg = small_set_config(arch, data_root, export, work / arch, iters,
                           canvas, lr, rois)
    runner = Runner.from_cfg(cfg)
    check = InitCheckHook(export)
    runner.register_hook(check)
    start = time.perf_counter()
    runner.train()
    train_s = time.perf_counter() - start
    losses = summarise_losses(runner.message_hub, max(2, iters // 4))
    start = time.perf_counter()
    metrics = runner.test()
    return dict(
        config=str(DET_CONFIGS[arch].relative_to(REPO)),
        init_check=check.result, iters=iters,
        s_per_iter=round(train_s / iters, 2),
        test_s=round(time.perf_counter() - start, 1), losses=losses,
        metrics={k: float(v) for k, v in metrics.items()
                 if isinstance(v, (int, float))})


def provenance(argv):
    def git(*args):
        return subprocess.run(['git', *args], cwd=REPO, capture_output=True,
                              text=True).stdout.strip()
    cpu = next((line.split(':', 1)[1].strip()
                for line in open('/proc/cpuinfo')
                if line.startswith('model name')), platform.processor())
    import mmcv
    import mmdet
    return dict(
        date=datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec='seconds'),
        commit=git('rev-parse', '--short', 'HEAD') + (
            ' + uncommitted changes'
            if git('status', '--porcelain', '--untracked-files=no') else ''),
        machine=f'{cpu}, {os.cpu_count()} cores, '
                f'{torch.get_num_threads()} torch threads',
        command='python benchmarks/detection/finetune.py ' + ' '.join(argv),
        versions=dict(torch=torch.__version__, mmcv=mmcv.__version__,
                      mmdet=mmdet.__version__))


def table(results):
    rows = ['| model | iters | s/iter | loss first -> last | bbox mAP | '
            'bbox AP50 | segm mAP | segm AP50 |',
            '| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: |']
    for arch, r in results['detectors'].items():
        m, loss = r['metrics'], r['losses']['loss']
        rows.append(
            f"| Mask R-CNN R50-{arch.upper()} | {r['iters']} | "
            f"{r['s_per_iter']} | {loss['first']:.3f} -> {loss['last']:.3f} "
            f"| {m['coco/bbox_mAP']:.3f} | {m['coco/bbox_mAP_50']:.3f} | "
            f"{m['coco/segm_mAP']:.3f} | {m['coco/segm_mAP_50']:.3f} |")
    return '\n'.join(rows)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--work-dir', default='work_dirs/detection')
    p.add_argument('--archs', nargs='+', choices=sorted(DET_CONFIGS),
                   default=['fpn', 'c4'])
    p.add_argument('--train-images', type=int, default=200)
    p.add_argument('--val-images', type=int, default=50)
    p.add_argument('--canvas', type=int, default=160)
    p.add_argument('--iters', type=int, default=60,
                   help='fine-tuning iterations, 2 images each')
    p.add_argument('--lr', type=float, default=0.01)
    p.add_argument('--rois', type=int, default=64,
                   help='RoIs sampled per image for the box/mask heads')
    p.add_argument('--byol-per-class', type=int, default=100,
                   help='pretraining images per class (numbers 0 to N-1)')
    p.add_argument('--byol-size', type=int, default=64)
    p.add_argument('--byol-batch', type=int, default=16)
    p.add_argument('--byol-epochs', type=int, default=1)
    return p.parse_args(argv)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    work = Path(args.work_dir).resolve()
    data = work / 'cifar_coco'
    result = dict(provenance(argv))
    result['set'] = [
        cifar_coco.build_split(data, 'train', args.train_images, args.canvas),
        cifar_coco.build_split(data, 'val', args.val_images, args.canvas)]
    folder = work / 'byol_images' / 'train'
    n = cifar_coco.extract_folder(folder, args.byol_per_class)
    start = time.perf_counter()
    ckpt = pretrain_byol(work / 'byol', folder, args.byol_size,
                         args.byol_batch, args.byol_epochs)
    result['byol'] = dict(
        images=n, cifar_numbers=[0, args.byol_per_class - 1],
        size=args.byol_size, batch=args.byol_batch, epochs=args.byol_epochs,
        iters=args.byol_epochs * (n // args.byol_batch),
        seconds=round(time.perf_counter() - start, 1))
    export = export_backbone(ckpt, work / 'byol_r50_mmdet.pth')
    result['small_set'] = dict(canvas=args.canvas, batch=2, lr=args.lr,
                               rois=args.rois, test_proposals=100)
    result['detectors'] = {
        arch: finetune(arch, data, export, work, args.iters, args.canvas,
                       args.lr, args.rois)
        for arch in args.archs}
    (work / 'results.json').write_text(json.dumps(result, indent=1))
    print(json.dumps(result))
    print(table(result))
    return result


if __name__ == '__main__':
    main()
