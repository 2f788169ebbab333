"""Train BYOL with MMEngine's Runner: ``python tools/train.py CONFIG``."""
import argparse
import os
import os.path as osp
import sys

from mmengine.config import Config, DictAction

from mmbyol.engine.runner import build_runner
from mmbyol.utils import register_all_modules
from mmbyol.utils.preflight import ConfigError, check_config


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Pretrain with BYOL')
    parser.add_argument('config', help='config file path')
    parser.add_argument('--work-dir', help='where logs and checkpoints go')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from CKPT, or with no value from the newest '
        'checkpoint in the work dir')
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
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


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


def main(argv=None):
    args = parse_args(argv)
    register_all_modules(init_default_scope=False)
    cfg = merge_args(Config.fromfile(args.config), args)
    try:
        check_config(cfg)
        runner = build_runner(cfg)
        runner.train()
    except ConfigError as err:  # raised before the first iteration
        sys.exit(f'error: {err}')
    return runner


if __name__ == '__main__':
    main()
