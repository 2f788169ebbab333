"""Where one mmbyol training step spends its time, op by op (CPU).

    python benchmarks/profile_step.py CONFIG [--amp] [--channels-last]
        [--keep-nchw layer4] [--backward-as-forward layer4] [--images DIR]
        [--steps 2] [--out step.json]

Builds the config's Runner as ``benchmarks/speed.py`` does (same switches
and data), runs warm-up steps on real batches, then times every ATen op of
one ``train_step`` with a ``TorchDispatchMode`` (each op is synchronous on
a CPU). Ops are grouped by name and by the shapes, layouts (``CL`` for
channels-last, ``strided(...)`` for neither layout) and dtypes of their
first inputs; convolutions also get their GFLOP/s (forward:
``2 N K C_in H_out W_out / groups`` per call, backward twice that when both
gradients are computed). Prints a table (the share of the step per kind of
op, then the costliest groups) and JSON (stdout, and ``--out``).

The timer adds a few microseconds per op, so small ops look slower than
they are; ``step_s`` (untimed) next to ``timed_step_s`` says by how much.
"""
import argparse
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

if __package__ in (None, ''):  # `python benchmarks/profile_step.py`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch
from mmengine.config import DictAction
from torch.utils._python_dispatch import TorchDispatchMode

from benchmarks import speed
from benchmarks.instruments.timing import timed
from benchmarks.report import print_report
from benchmarks.sides import Side
from benchmarks.speed_configs import mmbyol_config
from mmbyol import register_all_modules

KINDS = (('convolution_backward', 'convolution backward'),
         ('convolution', 'convolution forward'),
         ('batch_norm_backward', 'BatchNorm backward'),
         ('batch_norm', 'BatchNorm forward'),
         ('threshold_backward', 'ReLU backward'),
         ('relu', 'ReLU forward'), ('clamp_min', 'ReLU forward'))


def kind(op: str) -> str:
    return next((k for key, k in KINDS if key in op), 'other')


def describe(t) -> str:
    if not isinstance(t, torch.Tensor):
        return ''
    layout = ''
    if not t.is_contiguous():
        layout = 'CL' if t.dim() == 4 and t.is_contiguous(
            memory_format=torch.channels_last) else f'strided{t.stride()}'
    return f'{tuple(t.shape)}{layout} {str(t.dtype)[6:]}'


def conv_gflop(op: str, args, out) -> float:
    """GFLOP of one convolution call (0 for other ops)."""
    if op == 'convolution':
        y, w = out, args[1]
    elif op == 'convolution_backward':
        y, w = args[0], args[2]
    else:
        return 0.0
    # w is (C_out, C_in / groups, kh, kw): one output value costs w[0]
    flop = 2 * y.numel() * w[0].numel()
    if op == 'convolution_backward':
        flop *= sum(bool(m) for m in args[10][:2])
    return flop / 1e9


class OpTimer(TorchDispatchMode):
    """Wall time of every ATen op, grouped by op and input description."""

    def __init__(self) -> None:
        super().__init__()
        self.groups = defaultdict(lambda: dict(calls=0, s=0.0, gflop=0.0))

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        start = time.perf_counter()
        out = func(*args, **(kwargs or {}))
        elapsed = time.perf_counter() - start
        op = func.__name__.split('.')[0]
        key = (op, ' | '.join(describe(a) for a in args[:3]
                              if isinstance(a, torch.Tensor)))
        group = self.groups[key]
        group['calls'] += 1
        group['s'] += elapsed
        group['gflop'] += conv_gflop(op, args, out)
        return out


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('config')
    p.add_argument('--amp', action='store_true')
    p.add_argument('--channels-last', action='store_true')
    p.add_argument('--keep-nchw', nargs='+', default=[], metavar='MODULE')
    p.add_argument('--backward-as-forward', nargs='+', default=[],
                   metavar='MODULE')
    p.add_argument('--images', type=Path,
                   help='train on this image folder (as benchmarks/speed.py)')
    p.add_argument('--steps', type=int, default=2, help='warm-up steps')
    p.add_argument('--top', type=int, default=15, help='groups in the table')
    p.add_argument('--out', help='also write the JSON here')
    p.add_argument('--cfg-options', nargs='+', action=DictAction)
    return p.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    speed_args = speed.parse_args([args.config])
    for name in ('amp', 'channels_last', 'keep_nchw', 'backward_as_forward',
                 'images', 'cfg_options'):
        setattr(speed_args, name, getattr(args, name))
    register_all_modules(init_default_scope=False)
    cfg = mmbyol_config(speed_args, args.steps + 8,
                        tempfile.mkdtemp(prefix='mmbyol-prof-'))
    side = Side('mmbyol', cfg)
    side.setup()
    with side.active():
        batches = [next(side.loop.dataloader_iterator)
                   for _ in range(args.steps + 2)]

        def step(batch):
            return timed(lambda: side.train_step(batch))

        for batch in batches[:args.steps]:
            step(batch)
        step_s = step(batches[-2])
        timer = OpTimer()
        with timer:
            timed_s = step(batches[-1])
    with side.active():
        side.loop.finish()
    rows = [dict(op=op, inputs=inputs, kind=kind(op), calls=g['calls'],
                 ms=round(1e3 * g['s'], 2),
                 gflops=round(g['gflop'] / g['s'], 1) if g['gflop'] else None)
            for (op, inputs), g in timer.groups.items()]
    rows.sort(key=lambda r: -r['ms'])
    total_ms = sum(r['ms'] for r in rows)
    kinds = defaultdict(float)
    for r in rows:
        kinds[r['kind']] += r['ms']
    result = dict(
        config=args.config, batch_size=cfg.train_dataloader.batch_size,
        torch_threads=torch.get_num_threads(), step_s=round(step_s, 3),
        timed_step_s=round(timed_s, 3), ops_ms=round(total_ms, 1),
        share_by_kind={k: round(v / total_ms, 3)
                       for k, v in sorted(kinds.items(),
                                          key=lambda kv: -kv[1])},
        groups=rows)
    print_report(result, table(result, args.top), args.out)
    return result


def table(result: dict, top: int) -> str:
    """The share of the step per kind of op, then the ``top`` costliest
    groups."""
    lines = [f"step {result['step_s']:.3f} s untimed, "
             f"{result['timed_step_s']:.3f} s timed, "
             f"ops {result['ops_ms'] / 1e3:.3f} s"]
    for k, share in result['share_by_kind'].items():
        lines.append(f'  {k:22s} {100 * share:5.1f}%')
    lines.append(f'\n{"ms":>8s} {"calls":>5s} {"GFLOP/s":>8s}  op  inputs')
    for r in result['groups'][:top]:
        gflops = f'{r["gflops"]:8.0f}' if r['gflops'] else ' ' * 8
        lines.append(f'{r["ms"]:8.1f} {r["calls"]:5d} {gflops}  {r["op"]}  '
                     f'{r["inputs"]}')
    return '\n'.join(lines)


if __name__ == '__main__':
    main()
