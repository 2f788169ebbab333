"""BYOL on an image folder in a plain PyTorch loop: no config, no Runner.

    python examples/plain_pytorch_byol.py path/to/images --epochs 100 \\
        --image-size 96 --batch-size 256 --out work_dirs/plain_byol

``path/to/images`` is any folder of images, at any depth of sub-folders
(class folders or none; labels are ignored), read as the Runner path reads
it: :class:`mmbyol.datasets.ImageFolderDataset` decodes every image mode
to RGB and skips unreadable files, which the summary lists. The script
trains a torchvision ResNet-18 with :class:`mmbyol.BYOLLearner` (the
paper's augmentations drawn per sample on the training device, cosine tau
schedule, target updated after every optimizer step) and saves

* ``encoder.pth``: ``learner.net.state_dict()``, which loads into
  ``torchvision.models.resnet18()``;
* ``learner.pth``: the whole learner (online, target, projector,
  predictor and the EMA step counter), for ``learner.load_state_dict``;
* ``byol_runner.pth``: the same as a checkpoint of mmbyol's Runner ``BYOL``
  with an MMPretrain ResNet-18 backbone (``ResNet_CIFAR`` with
  ``--cifar-stem``), for ``load_from``/``--resume`` and mmbyol's tools
  (e.g. ``configs/byol_resnet18_1xb256-coslr-200e_cifar10.py``; keep the
  normalisation equal: ``--mean``/``--std`` are the config's values divided
  by 255).
"""
import argparse
import json
import math
import os
import time

import torch
import torch.nn as nn
import torchvision
from mmengine.dataset import default_collate
from torch.utils.data import DataLoader
from tqdm import tqdm

from mmbyol.datasets import ImageFolderDataset
from mmbyol.learner import BYOLLearner
from mmbyol.utils import reuse_host_memory
from mmbyol.utils.precision import autocast, autocast_dtype


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Plain-PyTorch BYOL')
    parser.add_argument('data', help='image folder, any depth')
    parser.add_argument('--out', default='work_dirs/plain_byol')
    parser.add_argument('--image-size', type=int, default=96,
                        help='side of the augmented views')
    parser.add_argument('--load-size', type=int, default=None,
                        help='images are resized and centre-cropped to this '
                        'square before augmentation (default: 8/7 of '
                        '--image-size, at least 32)')
    parser.add_argument('--batch-size', type=int, default=256)
    parser.add_argument('--epochs', type=int, default=100)
    parser.add_argument('--max-iters', type=int, default=None,
                        help='stop after this many steps (quick tries)')
    parser.add_argument('--lr', type=float, default=3e-4, help='AdamW lr')
    parser.add_argument('--weight-decay', type=float, default=1e-6)
    parser.add_argument('--warmup-steps', type=int, default=None,
                        help='linear lr warm-up (default: 1/30 of the run)')
    parser.add_argument('--base-tau', type=float, default=0.996)
    parser.add_argument('--mean', type=float, nargs=3,
                        default=(0.485, 0.456, 0.406),
                        help='per-channel mean of [0, 1] images (ImageNet)')
    parser.add_argument('--std', type=float, nargs=3,
                        default=(0.229, 0.224, 0.225))
    parser.add_argument('--cifar-stem', action='store_true',
                        help='3x3 stride-1 stem, no max-pool (tiny images)')
    parser.add_argument('--amp', action='store_true',
                        help='bf16 autocast where the device computes bf16 '
                        'natively (CUDA, AVX-512 CPUs), else fp32')
    parser.add_argument('--channels-last', action='store_true')
    parser.add_argument('--workers', type=int, default=4)
    parser.add_argument('--device', default=None,
                        help='default: cuda when available, else cpu')
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args(argv)


def build_loader(args, pin_memory: bool) -> DataLoader:
    """Batches of ``inputs`` (uint8 ``(N, 3, S, S)``; augmentation happens
    on the device) and ``data_samples``, whose metainfo names the files
    skipped in their place."""
    size = args.load_size or max(32, round(args.image_size * 8 / 7))
    dataset = ImageFolderDataset(
        data_prefix=args.data, skip_bad_images=True,
        pipeline=[
            dict(type='LoadRGBImage'),  # any mode -> RGB, or a bad image
            dict(type='ResizeEdge', scale=size, backend='pillow'),
            dict(type='CenterCrop', crop_size=size),
            dict(type='PackInputs'),  # (3, S, S) uint8 tensor + metainfo
        ])
    return DataLoader(dataset, batch_size=args.batch_size, shuffle=True,
                      drop_last=len(dataset) >= args.batch_size,
                      collate_fn=default_collate,
                      num_workers=args.workers, pin_memory=pin_memory,
                      persistent_workers=args.workers > 0)


def build_encoder(cifar_stem: bool) -> nn.Module:
    net = torchvision.models.resnet18(weights=None)
    if cifar_stem:
        net.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
        net.maxpool = nn.Identity()
    return net


def main(argv=None) -> dict:
    args = parse_args(argv)
    torch.manual_seed(args.seed)
    device = torch.device(args.device or (
        'cuda' if torch.cuda.is_available() else 'cpu'))
    # keep freed host memory: no page faults for every tensor of every step
    # (docs/speed.md); before the loader's workers fork
    reuse_host_memory()
    loader = build_loader(args, pin_memory=device.type == 'cuda')
    total_steps = args.epochs * len(loader)
    if args.max_iters is not None:
        total_steps = min(total_steps, args.max_iters)
    warmup = args.warmup_steps
    if warmup is None:
        warmup = max(1, total_steps // 30)

    net = build_encoder(args.cifar_stem).to(device)
    learner = BYOLLearner(net, args.image_size, hidden_layer='avgpool',
                          total_steps=total_steps, base_tau=args.base_tau,
                          mean=args.mean, std=args.std,
                          channels_last=args.channels_last).to(device)
    if args.channels_last:
        learner = learner.to(memory_format=torch.channels_last)
    # Every parameter exists already: the optimizer sees projector and
    # predictor; the target (requires_grad=False) is left out.
    optimizer = torch.optim.AdamW(
        [p for p in learner.parameters() if p.requires_grad], lr=args.lr,
        weight_decay=args.weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min(1.0, (step + 1) / warmup) * 0.5 *
        (1 + math.cos(math.pi * min(step, total_steps) / total_steps)))
    learner.attach(optimizer)  # target EMA after every optimizer.step()

    dtype = autocast_dtype('auto' if args.amp else 'float32', device.type)
    start, step, loss, skipped = time.time(), 0, torch.zeros(()), set()
    bar = tqdm(total=total_steps, desc='BYOL', unit='step')
    learner.train()
    while step < total_steps:
        for batch in loader:
            images = batch['inputs'].to(device, non_blocking=True)
            for sample in batch['data_samples']:
                skipped.update(sample.get('skipped_images', ()))
            with autocast(device.type, dtype):
                loss = learner(images)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()  # also moves the target (attach)
            scheduler.step()
            step += 1
            bar.update()
            if step % 10 == 0 or step == total_steps:
                bar.set_postfix(loss=f'{loss.item():.4f}',
                                tau=f'{learner.tau:.5f}')
            if step >= total_steps:
                break
    bar.close()

    os.makedirs(args.out, exist_ok=True)
    encoder_path = os.path.join(args.out, 'encoder.pth')
    learner_path = os.path.join(args.out, 'learner.pth')
    torch.save(learner.net.state_dict(), encoder_path)
    torch.save(learner.state_dict(), learner_path)
    runner_path = os.path.join(args.out, 'byol_runner.pth')
    torch.save(learner.to_runner_checkpoint(), runner_path)
    summary = dict(steps=step, final_loss=round(loss.item(), 4),
                   tau=learner.tau, seconds=round(time.time() - start, 1),
                   device=str(device), encoder=encoder_path,
                   learner=learner_path, runner_checkpoint=runner_path,
                   skipped_images=sorted(skipped))
    print(json.dumps(summary))
    return summary


if __name__ == '__main__':
    main()
