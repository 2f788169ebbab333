"""Fault drill: SIGKILL training at random moments, resume, compare.

1. trains the config once undisturbed (the reference);
2. trains it again in another work dir with ``--resume`` (auto), killing the
   process group with SIGKILL ``--kills`` times, in turn: the moment a
   checkpoint is being written (a fresh ``*.pth.tmp`` file appears), a
   random moment of training, and a random moment from the start (imports,
   loading the checkpoint), each time restarting with ``--resume``;
3. lets the last restart finish and checks that its final checkpoint holds
   bitwise the same online and target weights and buffers, optimizer state
   and momentum step as the reference, all of them finite.

Both runs also meet a NaN that arises inside the forward pass: at iteration
``--nan-at`` the inputs are divided by zero (``benchmarks/drill_hooks.py``);
the step must be skipped and leave no trace.

The drill shrinks the config so each process lives seconds: a subset of
the data, a checkpoint after every iteration, deterministic CPU kernels.

Example::

    python benchmarks/fault_drill.py --kills 20 --epochs 10

prints a table and a JSON line
``{"kills": 20, "kills_during_save": 7, "nan_steps_skipped": 1,
"survived": 20, "identical": true, "finite": true, ...}``; exit status 1
when the weights differ or are not finite.
"""
import argparse
import json
import os
import os.path as osp
import random
import signal
import subprocess
import sys
import time
from glob import glob

import torch
from mmengine.config import DictAction
from tqdm import tqdm

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--config', default=osp.join(
        REPO, 'configs', 'byol_resnet18-w16_1xb128-coslr-50e_digits.py'))
    parser.add_argument('--work-dir', default='work_dirs/fault_drill')
    parser.add_argument('--kills', type=int, default=10)
    parser.add_argument('--samples', type=int, default=96,
                        help='training subset size')
    parser.add_argument('--batch-size', type=int, default=16)
    parser.add_argument('--epochs', type=int, default=3)
    parser.add_argument('--num-workers', type=int, default=2)
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of the kill schedule')
    parser.add_argument('--nan-at', type=int, default=5,
                        help='iteration (from 1) whose forward pass makes '
                        'NaN in both runs; 0: none')
    parser.add_argument('--timeout', type=float, default=600,
                        help='seconds allowed for one training process')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='further config overrides')
    return parser.parse_args(argv)


def write_config(args) -> str:
    from mmengine.config import Config
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict({
        'train_dataloader.batch_size': args.batch_size,
        'train_dataloader.num_workers': args.num_workers,
        'train_dataloader.persistent_workers': args.num_workers > 0,
        'train_dataloader.dataset.indices': args.samples,
        'train_cfg': dict(type='EpochBasedTrainLoop',
                          max_epochs=args.epochs),
        'default_hooks.checkpoint': dict(type='CheckpointHook', interval=1,
                                         by_epoch=False, max_keep_ckpts=2),
        'default_hooks.logger': dict(type='LoggerHook', interval=1),
        'randomness': dict(seed=0, deterministic=True),
    })
    if args.nan_at:
        cfg.custom_imports = dict(imports=['benchmarks.drill_hooks'],
                                  allow_failed_imports=False)
        cfg.custom_hooks = list(cfg.get('custom_hooks') or []) + [
            dict(type='ZeroStdAtHook', at=args.nan_at - 1)]
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    os.makedirs(args.work_dir, exist_ok=True)
    path = osp.join(args.work_dir, 'drill_config.py')
    cfg.dump(path)
    return path


def start(config: str, work_dir: str, log) -> subprocess.Popen:
    env = dict(os.environ, OMP_NUM_THREADS='1', CUDA_VISIBLE_DEVICES='',
               PYTHONPATH=REPO)
    return subprocess.Popen(
        [sys.executable, osp.join(REPO, 'tools', 'train.py'), config,
         '--work-dir', work_dir, '--resume'],
        stdout=log, stderr=subprocess.STDOUT, env=env, cwd=REPO,
        start_new_session=True)


def kill(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGKILL)  # the trainer and its data workers
    proc.wait()


def _saving(work_dir: str, since: float) -> bool:
    """A checkpoint is being written now (a fresh ``*.pth.tmp``; an older
    one is a torn file from an earlier kill)."""
    for path in glob(osp.join(work_dir, '*.pth.tmp')):
        try:
            if os.stat(path).st_mtime >= since:
                return True
        except FileNotFoundError:  # renamed meanwhile
            pass
    return False


def _saved(work_dir: str, since: float) -> bool:
    """A checkpoint was completed since ``since``."""
    for path in glob(osp.join(work_dir, '*.pth')):
        try:
            if os.stat(path).st_mtime >= since:
                return True
        except FileNotFoundError:  # deleted meanwhile (max_keep_ckpts)
            pass
    return False


def final_checkpoint(work_dir: str) -> str:
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()


def compare(ref_path: str, run_path: str) -> dict:
    from mmbyol.utils import load_checkpoint_safely
    ref, run = (load_checkpoint_safely(p) for p in (ref_path, run_path))
    keys = ref['state_dict'].keys()
    weights = keys == run['state_dict'].keys() and all(
        torch.equal(ref['state_dict'][k], run['state_dict'][k]) for k in keys)
    ref_opt, run_opt = ref['optimizer']['state'], run['optimizer']['state']
    optimizer = ref_opt.keys() == run_opt.keys() and all(
        torch.equal(ref_opt[i][k], run_opt[i][k])
        for i in ref_opt for k in ref_opt[i]
        if isinstance(ref_opt[i][k], torch.Tensor))
    finite = all(torch.isfinite(v).all() for v in run['state_dict'].values()
                 if v.is_floating_point())
    return dict(identical_weights=bool(weights),
                identical_optimizer=bool(optimizer),
                same_momentum_step=ref['byol_momentum'] ==
                run['byol_momentum'],
                finite=bool(finite),
                iteration=run['meta']['iter'])


def drill(args) -> dict:
    rng = random.Random(args.seed)
    config = write_config(args)
    ref_dir = osp.join(args.work_dir, 'reference')
    run_dir = osp.join(args.work_dir, 'drilled')
    for d in (ref_dir, run_dir):
        os.makedirs(d, exist_ok=True)
        for old in glob(osp.join(d, '*.pth*')) + glob(
                osp.join(d, 'last_checkpoint*')):
            os.remove(old)
    ref_log = open(osp.join(args.work_dir, 'reference.log'), 'w')
    log = open(osp.join(args.work_dir, 'drill.log'), 'w')

    t0 = time.time()
    ref = start(config, ref_dir, ref_log)
    startup = None  # seconds to the first checkpoint
    while ref.poll() is None and time.time() - t0 < args.timeout:
        if startup is None and glob(osp.join(ref_dir, 'iter_*.pth')):
            startup = time.time() - t0
        time.sleep(0.01)
    if ref.wait(args.timeout) != 0:
        raise RuntimeError(f'reference run failed, see {ref_log.name}')
    ref_log.close()
    ref_seconds = time.time() - t0
    startup = startup or ref_seconds / 2
    train_seconds = ref_seconds - startup

    kills, during_save, finished_early = 0, 0, 0
    for i in tqdm(range(args.kills), desc='kills'):
        started = time.time()
        proc = start(config, run_dir, log)
        mode = ('save', 'training', 'anytime')[i % 3]
        slice_ = rng.uniform(0, 2 * train_seconds / max(args.kills, 1))
        # 'save': the moment a checkpoint is being written; 'training': a
        # random moment after this process's first new checkpoint, early
        # enough that the kills spread over the whole run; 'anytime': a
        # random moment from the start (imports, resume, first iterations)
        deadline = started + (rng.uniform(0, startup) + slice_
                              if mode == 'anytime' else
                              2 * ref_seconds + startup)
        hit_save = trained = False
        while proc.poll() is None:
            saving = _saving(run_dir, started)
            if mode == 'training' and not trained and _saved(
                    run_dir, started):
                trained = True
                deadline = time.time() + slice_
            if (mode == 'save' and saving) or time.time() > deadline:
                hit_save = saving
                break
            time.sleep(0.001)
        if proc.poll() is not None:
            finished_early += 1  # training ended before the kill
            if proc.returncode != 0:
                raise RuntimeError(f'run {i} failed, see {log.name}')
            break
        kill(proc)
        kills += 1
        during_save += hit_save
    last = start(config, run_dir, log)
    if last.wait(args.timeout) != 0:
        raise RuntimeError(f'final resumed run failed, see {log.name}')
    log.close()
    with open(log.name) as f:
        skipped = f.read().count('--resume: skipping')
    with open(ref_log.name) as f:
        nan_skipped = f.read().count('non-finite loss')
    result = dict(kills=kills, kills_during_save=during_save,
                  nan_steps_skipped=nan_skipped,
                  survived=kills, finished_before_kill=finished_early,
                  unreadable_checkpoints_skipped=skipped,
                  reference_seconds=round(ref_seconds, 1))
    result.update(compare(final_checkpoint(ref_dir),
                          final_checkpoint(run_dir)))
    result['identical'] = (result['identical_weights']
                           and result['identical_optimizer']
                           and result['same_momentum_step'])
    if not (result['identical'] and result['finite']):
        result['survived'] = 0
    return result


def main(argv=None) -> int:
    args = parse_args(argv)
    result = drill(args)
    width = max(len(k) for k in result)
    print('\n'.join(f'{k:<{width}}  {v}' for k, v in result.items()))
    print(json.dumps(result))
    return 0 if result['identical'] and result['finite'] else 1


if __name__ == '__main__':
    sys.exit(main())
