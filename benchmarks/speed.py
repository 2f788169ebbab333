"""Seconds per BYOL iteration through MMEngine's Runner, optionally side by
side with MMPretrain's own BYOL in the same process.

    python benchmarks/speed.py CONFIG [--amp] [--channels-last]
        [--keep-nchw layer4] [--backward-as-forward layer4]
        [--against-mmpretrain] [--ablate HOOK ...] [--images DIR]
        [--iters 3] [--warmup 2] [--rounds 2] [--cfg-options ...]
        [--out result.json]

Data: a config on MMPretrain's ``CIFAR10`` data set trains on the CIFAR-10
JPEGs (``benchmarks/cifar_jpegs.py`` unpacks them once to
``data/cifar10-jpegs``; the held-out images are not used); ``--images DIR``
trains any config on the image folder DIR.

For each side (``mmbyol`` from CONFIG; with ``--against-mmpretrain`` also
``mmpretrain``, see ``benchmarks/speed_configs.py``; with ``--ablate HOOK``
also ``mmbyol-ablated``: the mmbyol side without those custom hooks, so
that a speed switch is measured on and off in one run) it measures

* ``iteration``: the whole Runner iteration (next batch from the loader,
  ``before_train_iter`` hooks, ``train_step``: preprocess, forward,
  backward, optimizer, EMA, then ``after_train_iter`` hooks: logging,
  schedulers), ``--iters`` timed after ``--warmup`` per block; the sides run
  in alternating blocks for ``--rounds`` rounds (blocks, not single
  iterations, so that one side's loader workers never run inside the other
  side's timing);
* ``model_step``: ``model.train_step`` alone on pre-loaded batches;
* ``ema_ms``: one target-network update;
* ``loader_cpu_s_per_batch``: CPU seconds the data-loader workers spend on
  one batch (``--loader-batches`` drawn with no step running, read from
  ``/proc``), and ``loader_bound_images_per_s``: ``num_workers`` x batch /
  that, what the workers could feed with a core each;
* ``syncs_per_iter``: host-device syncs in one whole iteration, and
  ``syncs_optimizer_ema`` in the optimizer step + EMA alone
  (``benchmarks/instruments/syncs.py``);
* ``reuse_host_memory``: the side's ``env_cfg`` glibc setting, applied
  while it runs (on for mmbyol's configs, off for MMPretrain unless
  ``--anchor-reuse-host-memory``), and ``page_faults_per_iter``: the main
  process's minor page faults per timed iteration (median);
* ``peak_rss_mb`` (this process, sampled every 10 ms while the side runs:
  both models are resident; loader workers are separate processes) or
  ``peak_cuda_mb``;
* how close to the hardware (``benchmarks/instruments/roofline.py``):
  ``gflop_per_image`` of one ``train_step``, ``peak_gflops`` of each dtype
  a side computes in, measured in the run (``peak_detail``: per kernel),
  ``gflops`` achieved over the whole iteration, ``fraction_of_peak`` and
  ``ceiling_images_per_s``, the images/s if every FLOP ran at the peak.

Output: a table and JSON (stdout, and ``--out``).
"""
import argparse
import copy
import os.path as osp
import statistics
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ''):  # `python benchmarks/speed.py`: the repo root
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch
from mmengine.config import DictAction
from tqdm import tqdm

from benchmarks.instruments.memory import PeakMemory
from benchmarks.instruments.proc import loader_cpu_per_batch, minor_page_faults
from benchmarks.instruments.roofline import (compute_dtype, count_flops,
                                             peak_detail)
from benchmarks.instruments.timing import timed
from benchmarks.report import print_report
from benchmarks.sides import Side
from benchmarks.speed_configs import (ablated_config, mmbyol_config,
                                      mmpretrain_config)
from benchmarks.speed_report import report, table
from mmbyol import register_all_modules


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('config')
    p.add_argument('--against-mmpretrain', action='store_true')
    p.add_argument('--amp', action='store_true',
                   help="mmbyol side: AutocastOptimWrapper (the config's "
                   "dtype, else 'auto': bf16 where native, else fp32)")
    p.add_argument('--channels-last', action='store_true',
                   help="mmbyol side: ChannelsLastHook (the config's own if "
                   'it has one)')
    p.add_argument('--keep-nchw', nargs='+', default=[], metavar='MODULE',
                   help='mmbyol side: ChannelsLastHook(keep_nchw=...), '
                   'backbone stages that stay NCHW (e.g. layer4); implies '
                   '--channels-last')
    p.add_argument('--backward-as-forward', nargs='+', default=[],
                   metavar='MODULE',
                   help='mmbyol side: the experimental '
                   'ConvBackwardAsForwardHook(stages=...) of '
                   'benchmarks/experiments: backbone stages whose '
                   'convolution gradients run as forward convolutions')
    p.add_argument('--ablate', nargs='+', default=[], metavar='HOOK',
                   help='also run mmbyol without these custom hooks (e.g. '
                   'ChannelsLastHook), as side mmbyol-ablated, '
                   'alternating with the others: a before/after in one run')
    p.add_argument('--anchor-reuse-host-memory', action='store_true',
                   help='mmpretrain side: keep freed host memory too, as '
                   "mmbyol's runtime does (default: glibc's default, as "
                   'MMPretrain ships)')
    p.add_argument('--images', type=Path,
                   help='train on this image folder (default for a CIFAR10 '
                   'config: the CIFAR-10 JPEGs, unpacked once)')
    p.add_argument('--iters', type=int, default=3, help='timed per block')
    p.add_argument('--warmup', type=int, default=2, help='untimed per block')
    p.add_argument('--rounds', type=int, default=2, help='blocks per side')
    p.add_argument('--step-iters', type=int, default=3,
                   help='timed model steps on pre-loaded batches')
    p.add_argument('--ema-repeats', type=int, default=20)
    p.add_argument('--loader-batches', type=int, default=6,
                   help="batches drawn, without steps, to measure the "
                   "loader workers' CPU seconds per batch (0: skip)")
    p.add_argument('--peak-size', type=int,
                   help='side of the peak matmul (default 4096 on CPU, '
                   '8192 on CUDA); the peak convolution scales with it')
    p.add_argument('--image-size', type=int,
                   help='mmpretrain side crop size (default: from CONFIG)')
    p.add_argument('--work-dir', help='default: a temporary folder')
    p.add_argument('--out', help='also write the JSON here')
    p.add_argument('--cfg-options', nargs='+', action=DictAction)
    return p.parse_args(argv)


def short_path(path: str) -> str:
    """A call site relative to site-packages or the working directory."""
    return path.split('site-packages/')[-1].replace(osp.abspath('.') + '/',
                                                    '')


def build_sides(args, work_dir: str, per_side: int) -> tuple:
    """The mmbyol side's config and every side, set up."""
    byol_cfg = mmbyol_config(args, per_side, work_dir)
    sides = [Side('mmbyol', copy.deepcopy(byol_cfg))]
    if args.ablate:
        sides.append(Side('mmbyol-ablated', ablated_config(
            byol_cfg, args.ablate, work_dir)))
    if args.against_mmpretrain:
        sides.append(Side('mmpretrain', mmpretrain_config(
            args, byol_cfg, per_side, work_dir)))
    for side in sides:
        side.setup()
    return byol_cfg, sides


def time_iterations(args, sides, memory: PeakMemory, bar) -> None:
    """Whole iterations, the sides in alternating blocks."""
    for _ in range(args.rounds):
        for side in sides:
            with side.active():
                memory.reset()
                for i in range(args.warmup + args.iters):
                    faults = minor_page_faults()
                    t = timed(side.loop.step)
                    if i >= args.warmup:
                        side.times['iteration'].append(t)
                        side.page_faults.append(minor_page_faults() - faults)
                    bar.update()
                side.peak_mem = max(side.peak_mem, memory.read_mb())


def measure_parts(args, side: Side, bar) -> None:
    """Loader CPU, model step, EMA, FLOPs and syncs of one side."""
    side.result['loader_cpu_s_per_batch'] = loader_cpu_per_batch(
        side.loop, args.loader_batches)
    batches = [next(side.loop.dataloader_iterator)
               for _ in range(max(args.step_iters, 1))]
    with side.active():
        for batch in batches[:args.step_iters]:
            side.times['model_step'].append(
                timed(lambda: side.train_step(batch)))
            bar.update()
        ema = side.ema()
        ema_times = [timed(ema) for _ in range(args.ema_repeats)]
        side.result.update(count_flops(lambda: side.train_step(batches[0]),
                                       side.batch_size))
    side.result.update(side.count_syncs(batches[0], short_path))
    side.result['ema_ms'] = 1e3 * statistics.median(ema_times) \
        if ema_times else None


def run(args) -> dict:
    register_all_modules(init_default_scope=False)
    work_dir = args.work_dir or tempfile.mkdtemp(prefix='mmbyol-bench-')
    per_side = args.rounds * (args.warmup + args.iters) + args.step_iters + 4
    byol_cfg, sides = build_sides(args, work_dir, per_side)
    memory = PeakMemory()
    total = len(sides) * (per_side - 4)
    with tqdm(total=total, desc='benchmark', file=sys.stderr) as bar:
        time_iterations(args, sides, memory, bar)
        for side in sides:
            measure_parts(args, side, bar)
    memory.close()
    for side in sides:
        with side.active():
            side.loop.finish()
    device = 'cuda' if memory.cuda else 'cpu'
    # the peaks of the dtypes the sides compute in (an emulated bf16 peak
    # would take minutes to measure and mean nothing)
    dtypes = sorted({compute_dtype(side.optim_wrapper) for side in sides})
    detail = {name: peak_detail(getattr(torch, name), device, args.peak_size)
              for name in dtypes}
    return report(args, byol_cfg, sides, memory.cuda, detail)


def main(argv=None) -> dict:
    args = parse_args(argv)
    result = run(args)
    print_report(result, table(result), args.out)
    return result


if __name__ == '__main__':
    main()
