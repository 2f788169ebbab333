"""Train with MMEngine's Runner: ``python tools/train.py CONFIG``.

Errors a user can act on (a bad config value, a checkpoint that does not
fit, an unreadable image, a run stopped by a signal or by non-finite
losses) are printed as one line and exit non-zero; ``--debug`` shows the
traceback.
"""
import argparse
import os
import os.path as osp
import sys

import torch.distributed as dist
from mmengine.config import Config, DictAction

from mmbyol import register_all_modules
from mmbyol.engine.preflight import check_config
from mmbyol.engine.runner import build_runner
from mmbyol.utils.errors import MMBYOLError


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train with a config')
    parser.add_argument('config', help='config file path')
    parser.add_argument('--work-dir', help='where logs and checkpoints go')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from CKPT, or with no value from the furthest '
        'checkpoint in the work dir')
    parser.add_argument(
        '--max-iters', type=int, metavar='N',
        help='a short run: N iterations of the config (epoch- or '
        'iteration-based), validation and a checkpoint at the end')
    parser.add_argument(
        '--amp', action='store_true',
        help='mixed precision: bf16 autocast where the device computes '
        'bf16 natively (CUDA, AVX-512 CPUs), fp32 elsewhere')
    parser.add_argument(
        '--auto-scale-lr', action='store_true',
        help='scale lr linearly with the real total batch size')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config keys, e.g. train_cfg.max_epochs=10')
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none', help='job launcher')
    parser.add_argument('--debug', action='store_true',
                        help='show the traceback of errors')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    if args.max_iters is not None and args.max_iters < 1:
        parser.error(f'--max-iters must be >= 1, got {args.max_iters}')
    return args


def short_run(cfg: Config, iters: int) -> None:
    """``iters`` iterations of the config, whatever its loop: the first
    iterations of its lr schedule (BYOL's tau schedule spans the short
    run), validation and a checkpoint at the end."""
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=iters,
                         val_interval=iters)
    checkpoint = cfg.get('default_hooks', {}).get('checkpoint')
    if checkpoint is not None:
        checkpoint.update(by_epoch=False, interval=iters)


def merge_args(cfg: Config, args) -> Config:
    """Apply the command-line options to the config."""
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    if args.max_iters is not None:
        short_run(cfg, args.max_iters)
    if args.amp:
        cfg.optim_wrapper.type = 'AutocastOptimWrapper'  # CPU + CUDA
        cfg.optim_wrapper.setdefault('dtype', 'auto')
    if args.auto_scale_lr:
        cfg.auto_scale_lr.enable = True
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume
    return cfg


def one_line(err: BaseException) -> str:
    """The message of ``err``; for an error re-raised from a data-loader
    worker, the original one (its traceback's last line)."""
    text = str(err).strip()
    if 'Original Traceback' in text:
        last = text.splitlines()[-1]
        text = last.split(': ', 1)[1] if ': ' in last else last
    return ' '.join(text.split())


def main(argv=None):
    args = parse_args(argv)
    register_all_modules(init_default_scope=False)
    try:
        cfg = merge_args(Config.fromfile(args.config), args)
        check_config(cfg)
        runner = build_runner(cfg)
        runner.train()
    except MMBYOLError as err:
        if args.debug:
            raise
        sys.exit(f'error: {one_line(err)}')
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()  # before exit, as PyTorch asks
    return runner


if __name__ == '__main__':
    main()
