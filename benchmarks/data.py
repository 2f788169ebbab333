"""Source images per second per CPU core of three BYOL data pipelines.

    python benchmarks/data.py [--images DIR] [--num 256] [--size 224]
        [--batch 64] [--device cpu] [--tensor-ops] [--out result.json]

On the same image files, in the same process, one thread each:

* ``mmbyol-cpu``: ``LoadRGBImage`` + ``BYOLViews`` (all of T and T' per
  image, as the data-loader workers run it with ``*_byol_cpu.py``);
* ``mmbyol-batched``: workers' share (decode, crop, flip) per image plus
  ``BYOLDataPreprocessor(augment_on_device=True)`` on batches of
  ``--batch`` on ``--device`` (the default configs);
* ``mmpretrain-stock``: MMPretrain's ``imagenet_bs32_byol.py`` train
  pipeline built from MMPretrain's registry. Its ``ColorJitter`` with
  ``hue=0.1`` crashes under numpy 2 (mmcv's ``adjust_hue``); the error is
  reported and the pipeline is then timed with ``hue=0`` (said in the row).

The mmbyol pipelines run with freed host memory kept for reuse, as
mmbyol's runtime does (``env_cfg.reuse_host_memory``), the stock one with
glibc's default, as MMPretrain ships (``--stock-reuse-host-memory`` gives
it the same); each row says which.

Each produces both views of every image, after an untimed run on two
images (numba compiles mmbyol's fused CPU colour kernels on first use, see
``mmbyol/augmentations/cpu_kernels.py``). Speed is images / CPU seconds of
this process (``time.process_time``), so it means "per core" and is robust
to other load; wall-clock numbers are reported too. Without ``--images``
the benchmark writes ``--num`` ImageNet-sized JPEGs (500 x 375) with
``benchmarks/make_jpegs.py`` (upscaled CIFAR-10 images if
``../shared/data/cifar10/train.tar.gz`` exists, else smooth noise) to a
temporary folder.

Output: a table (images per second per core and wall-clock, and the ratio
to the stock pipeline) and JSON (stdout, and ``--out``).
"""
import argparse
import copy
import os
import os.path as osp
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ''):  # `python benchmarks/data.py`: the repo root
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch
from tqdm import tqdm

from benchmarks.make_jpegs import make_images
from benchmarks.report import print_report


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--images', help='folder of images (default: synthetic)')
    p.add_argument('--num', type=int, default=256, help='images to time')
    p.add_argument('--size', type=int, default=224, help='view side')
    p.add_argument('--batch', type=int, default=64,
                   help='batch size of the batched path')
    p.add_argument('--device', default='cpu')
    p.add_argument('--convention', default='torchvision')
    p.add_argument('--only', nargs='+', help='pipelines to run')
    p.add_argument('--tensor-ops', action='store_true',
                   help="also time mmbyol's pipelines with the colour ops "
                   'as PyTorch tensor ops (the path on accelerators) instead '
                   'of the fused CPU kernels, in the same run')
    p.add_argument('--stock-reuse-host-memory', action='store_true',
                   help="stock pipeline: keep freed host memory too, as "
                   "mmbyol's runtime does (default: glibc's default)")
    p.add_argument('--out', help='also write the JSON here')
    return p.parse_args(argv)


def timed(name, paths, step, finish=None):
    """Run ``step`` on every path (``finish`` on the collected outputs)."""
    outputs = []
    wall, cpu = time.perf_counter(), time.process_time()
    for path in tqdm(paths, desc=name, leave=False):
        outputs.append(step(path))
        if finish is not None:
            outputs = finish(outputs, last=path is paths[-1])
    cpu = time.process_time() - cpu
    wall = time.perf_counter() - wall
    return dict(pipeline=name, images=len(paths), cpu_s=round(cpu, 3),
                wall_s=round(wall, 3),
                images_per_s_per_core=round(len(paths) / cpu, 1),
                images_per_s_wall=round(len(paths) / wall, 1))


def mmbyol_cpu(paths, args):
    from mmcv.transforms import Compose
    pipe = Compose([
        dict(type='mmbyol.LoadRGBImage'),
        dict(type='mmbyol.BYOLViews', size=args.size, photometric=True,
             convention=args.convention)
    ])
    return timed('mmbyol-cpu', paths, lambda p: pipe(dict(img_path=p)))


def mmbyol_batched(paths, args):
    from mmcv.transforms import Compose
    from mmengine.dataset import default_collate

    from mmbyol.registry import MODELS
    pipe = Compose([
        dict(type='mmbyol.LoadRGBImage'),
        dict(type='mmbyol.BYOLViews', size=args.size, photometric=False,
             convention=args.convention),
        dict(type='mmpretrain.PackInputs',
             meta_keys=('img_path', 'byol_photometric')),
    ])
    pre = MODELS.build(
        dict(type='mmbyol.BYOLDataPreprocessor', mean=[123.675, 116.28,
                                                       103.53],
             std=[58.395, 57.12, 57.375], augment_on_device=True,
             convention=args.convention)).to(args.device)

    spent = dict(cpu=0.0, wall=0.0)

    def finish(outputs, last):
        if len(outputs) < args.batch and not last:
            return outputs
        cpu, wall = time.process_time(), time.perf_counter()
        with torch.no_grad():
            out = pre(default_collate(outputs), training=True)
        if args.device.startswith('cuda'):
            torch.cuda.synchronize()
        assert len(out['inputs']) == 2
        spent['cpu'] += time.process_time() - cpu
        spent['wall'] += time.perf_counter() - wall
        return []

    name = f'mmbyol-batched ({args.device}, batch {args.batch})'
    total = timed(name, paths, lambda p: pipe(dict(img_path=p)), finish)
    # The share of the CPU cores when the colour ops run on an accelerator:
    # what the data-loader workers do (decode, crop, flip, pack).
    workers = dict(total, pipeline='mmbyol-batched: workers only '
                   '(decode+crop+flip)')
    workers['cpu_s'] = round(total['cpu_s'] - spent['cpu'], 3)
    workers['wall_s'] = round(total['wall_s'] - spent['wall'], 3)
    workers['images_per_s_per_core'] = round(
        len(paths) / workers['cpu_s'], 1)
    workers['images_per_s_wall'] = round(len(paths) / workers['wall_s'], 1)
    total['device_ops_cpu_s'] = round(spent['cpu'], 3)
    return [total, workers]


def stock_pipeline(hue: float):
    from mmcv.transforms import Compose
    from mmengine.config import Config

    import mmpretrain
    cfg = Config.fromfile(
        osp.join(osp.dirname(mmpretrain.__file__), '.mim', 'configs',
                 '_base_', 'datasets', 'imagenet_bs32_byol.py'))
    pipeline = copy.deepcopy(cfg.train_pipeline)
    for view in pipeline[1]['transforms']:
        for step in view:
            if step['type'] == 'RandomApply':
                step['transforms'][0]['hue'] = hue
    for step in pipeline:
        step['type'] = 'mmpretrain.' + step['type']
    return Compose(pipeline)


def mmpretrain_stock(paths, args):
    note = None
    pipe = stock_pipeline(hue=0.1)
    try:
        for _ in range(10):  # ColorJitter runs with p 0.8 per view
            pipe(dict(img_path=paths[0]))
    except Exception as exc:  # noqa: BLE001
        note = (f'hue=0.1 crashes: {type(exc).__name__}: {exc}'.strip()
                [:200] + '; timed with hue=0')
        pipe = stock_pipeline(hue=0.0)
    row = timed('mmpretrain-stock' + (' (hue=0)' if note else ''), paths,
                lambda p: pipe(dict(img_path=p)))
    row['note'] = note
    return row


PIPELINES = dict(cpu=mmbyol_cpu, batched=mmbyol_batched,
                 stock=mmpretrain_stock)


def main(argv=None) -> dict:
    args = parse_args(argv)
    torch.set_num_threads(1)
    try:
        import cv2
        cv2.setNumThreads(1)
    except ImportError:
        pass
    from mmbyol.augmentations.cpu_kernels import (cpu_kernels_enabled,
                                                  use_cpu_kernels)
    from mmbyol import register_all_modules
    from mmbyol.utils import reuse_host_memory
    register_all_modules()
    with tempfile.TemporaryDirectory() as tmp:
        if args.images:
            from mmbyol.datasets import scan_images
            paths = scan_images(args.images)[:args.num]
        else:
            paths = make_images(tmp, args.num)
        runs = [(key, True) for key in args.only or PIPELINES]
        if args.tensor_ops:
            runs += [(key, False) for key, _ in runs if key != 'stock']
        rows = []
        for key, kernels in runs:
            reuse = key != 'stock' or args.stock_reuse_host_memory
            reuse_host_memory(reuse)
            with use_cpu_kernels(kernels):
                # untimed first: numba compiles mmbyol's CPU kernels on
                # first use (seconds, then cached on disk)
                PIPELINES[key](paths[:2], args)
                row = PIPELINES[key](paths, args)
            for r in row if isinstance(row, list) else [row]:
                if key != 'stock':
                    r = dict(r, cpu_kernels=cpu_kernels_enabled() and
                             kernels)
                    if not kernels:
                        r['pipeline'] += ' [tensor ops]'
                rows.append(dict(r, reuse_host_memory=reuse))
    result = dict(size=args.size, images=len(paths), threads=1,
                  cpu_count=os.cpu_count(),
                  load_avg=[round(x, 2) for x in os.getloadavg()],
                  pipelines=rows)
    stock = [r for r in rows if r['pipeline'].startswith('mmpretrain')]
    if stock:
        for r in rows:
            r['x_stock'] = round(r['images_per_s_per_core'] /
                                 stock[0]['images_per_s_per_core'], 2)
    print_report(result, table(rows), args.out)
    return result


def table(rows: list) -> str:
    lines = [f'{"pipeline":64s} {"img/s/core":>10s} {"img/s wall":>10s} '
             f'{"x stock":>8s}']
    for r in rows:
        lines.append(f'{r["pipeline"]:64s} {r["images_per_s_per_core"]:10.1f}'
                     f' {r["images_per_s_wall"]:10.1f} '
                     f'{r.get("x_stock", 0):8.2f}')
    return '\n'.join(lines)


if __name__ == '__main__':
    main()
