"""Which backbone stages run faster in NCHW than in NHWC, for
``ChannelsLastHook(keep_nchw=...)``, and which get faster gradients as
forward convolutions, for the experimental
``ConvBackwardAsForwardHook(stages=...)`` of ``benchmarks/experiments``.

    python benchmarks/layouts.py CONFIG [--batch N] [--size S]
        [--dtype auto] [--repeats 5] [--margin 0.05] [--device cpu]
        [--cfg-options ...] [--out result.json]

Builds CONFIG's backbone, records the input of each of its top-level
stages that hold a convolution (``conv1``, ``layer1`` ... ``layer4`` of a
ResNet) on one batch of the config's view size, and times each stage on
that input in both memory layouts, each with the usual convolution
backward and with ``Conv2dBackwardAsForward``, alternating, under autocast in
``--dtype`` (``auto``, the default: bf16 where the device computes it
natively, else fp32, as ``--amp`` trains): the forward with gradients
and its backward (the online network's share of a step) and the forward
without gradients (the target's). ``byol_ms`` weights them as one BYOL
step does: two online forward + backward passes and two target forwards
per stage.

Prints a table and JSON (stdout, and ``--out``), with ``keep_nchw``: the
stages whose ``byol_ms`` is at least ``--margin`` lower in NCHW, and
``backward_as_forward``: the stages whose ``byol_ms``, in the layout chosen
for them, is at least ``--margin`` lower with the forward-convolution
gradients. The answers depend on the machine (oneDNN and cuDNN pick
different kernels per layout and map size), so measure on the machine
that will train.
"""
import argparse
import copy
import statistics
import sys
import time
from pathlib import Path

if __package__ in (None, ''):  # `python benchmarks/layouts.py`: the repo root
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch
import torch.nn as nn
from mmengine.config import Config, DictAction
from tqdm import tqdm

from benchmarks.experiments.conv_backward_as_forward import \
    Conv2dBackwardAsForward
from benchmarks.report import print_report
from mmbyol import register_all_modules
from mmbyol.datasets.transforms import view_size
from mmbyol.registry import MODELS
from mmbyol.utils import autocast_dtype, reuse_host_memory
from mmbyol.utils.precision import DTYPES, autocast, dtype_name

LAYOUTS = {'nhwc': torch.channels_last, 'nchw': torch.contiguous_format}
# each layout with the usual backward and with the forward-convolution one
VARIANTS = {**{key: (layout, False) for key, layout in LAYOUTS.items()},
            **{f'{key}_bwd_as_fwd': (layout, True)
               for key, layout in LAYOUTS.items()}}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('config')
    p.add_argument('--batch', type=int,
                   help="images per view (default: the config's batch)")
    p.add_argument('--size', type=int,
                   help="view side (default: the config's pipeline)")
    p.add_argument('--dtype', default='auto', choices=DTYPES)
    p.add_argument('--repeats', type=int, default=5)
    p.add_argument('--margin', type=float, default=0.05,
                   help='keep a stage NCHW, or switch its gradients, only '
                   'if at least this much faster')
    p.add_argument('--device',
                   default='cuda' if torch.cuda.is_available() else 'cpu')
    p.add_argument('--out', help='also write the JSON here')
    p.add_argument('--cfg-options', nargs='+', action=DictAction)
    return p.parse_args(argv)


def conv_stages(backbone: nn.Module) -> dict:
    """Top-level children of ``backbone`` that hold a convolution."""
    return {name: child for name, child in backbone.named_children()
            if any(isinstance(m, nn.Conv2d) for m in child.modules())}


def stage_inputs(backbone: nn.Module, stages: dict, images: torch.Tensor,
                 mixed) -> dict:
    """The tensor each stage receives when ``backbone`` runs ``images``
    under the autocast context ``mixed`` (so in the dtype it has in
    training)."""
    seen, handles = {}, []
    for name, stage in stages.items():
        handles.append(stage.register_forward_pre_hook(
            lambda m, args, name=name: seen.setdefault(name, args[0])))
    with torch.no_grad(), mixed:
        backbone(images)
    for handle in handles:
        handle.remove()
    return seen


def sync(device: str) -> None:
    if device == 'cuda':
        torch.cuda.synchronize()


def time_stage(stage: nn.Module, x: torch.Tensor, layout, dtype,
               device: str) -> dict:
    """Milliseconds of one forward with gradients, its backward, and one
    forward without gradients, of ``stage`` in ``layout``."""
    mixed = autocast(device, dtype)
    x = x.detach().contiguous(memory_format=layout).requires_grad_(
        x.requires_grad)
    times = {}
    sync(device)
    start = time.perf_counter()
    with mixed:
        y = stage(x)
    sync(device)
    times['forward'] = time.perf_counter() - start
    grad = torch.ones_like(y)
    start = time.perf_counter()
    y.backward(grad)
    sync(device)
    times['backward'] = time.perf_counter() - start
    start = time.perf_counter()
    with torch.no_grad(), mixed:
        stage(x)
    sync(device)
    times['forward_no_grad'] = time.perf_counter() - start
    return {k: 1e3 * v for k, v in times.items()}


def measure(args) -> dict:
    register_all_modules(init_default_scope=True)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    loader = cfg.get('train_dataloader', {})
    batch = args.batch or loader.get('batch_size', 32)
    size = args.size or view_size(loader.get('dataset', {}).get(
        'pipeline', []))
    dtype = autocast_dtype(args.dtype, args.device)
    backbone = MODELS.build(cfg.model).backbone.to(args.device)
    backbone.train()  # BatchNorm on batch statistics, as in training
    stages = conv_stages(backbone)
    images = torch.randn(batch, 3, size, size, device=args.device)
    inputs = stage_inputs(backbone, stages, images,
                          autocast(args.device, dtype))
    # copies per variant: converting one module back and forth would time
    # the first call after each conversion
    copies = {(name, key): variant(stage, *VARIANTS[key])
              for name, stage in stages.items() for key in VARIANTS}
    for name, x in inputs.items():  # online stages get input gradients
        x.requires_grad_(x is not images)
    runs = {key: [] for key in copies}
    steps = len(copies) * (args.repeats + 1)
    with tqdm(total=steps, desc='layouts') as bar:
        for repeat in range(args.repeats + 1):  # the first is warm-up
            for (name, key), stage in copies.items():
                t = time_stage(stage, inputs[name], VARIANTS[key][0],
                               dtype, args.device)
                if repeat:
                    runs[(name, key)].append(t)
                bar.update()
    rows = []
    for name in stages:
        row = dict(stage=name, input_shape=list(inputs[name].shape),
                   input_dtype=dtype_name(inputs[name].dtype))
        for key in VARIANTS:
            med = {k: statistics.median(t[k] for t in runs[(name, key)])
                   for k in runs[(name, key)][0]}
            med['byol_ms'] = 2 * (med['forward'] + med['backward'] +
                                  med['forward_no_grad'])
            row[key] = med
        row['nchw_speedup'] = row['nhwc']['byol_ms'] / row['nchw']['byol_ms']
        row['layout'] = 'nchw' if row['nchw']['byol_ms'] < (
            1 - args.margin) * row['nhwc']['byol_ms'] else 'nhwc'
        plain = row[row['layout']]['byol_ms']
        row['bwd_as_fwd_speedup'] = plain / row[
            f"{row['layout']}_bwd_as_fwd"]['byol_ms']
        rows.append(row)
    keep = [r['stage'] for r in rows if r['layout'] == 'nchw']
    grads = [r['stage'] for r in rows
             if r['bwd_as_fwd_speedup'] > 1 / (1 - args.margin)]
    return dict(config=args.config, device=args.device,
                dtype=dtype_name(dtype), requested_dtype=args.dtype,
                batch=batch, size=size, repeats=args.repeats,
                margin=args.margin, torch_threads=torch.get_num_threads(),
                stages=rows, keep_nchw=keep, backward_as_forward=grads)


def variant(stage: nn.Module, layout, bwd_as_fwd: bool) -> nn.Module:
    """A copy of ``stage`` in ``layout``, with forward-convolution
    gradients or not."""
    stage = copy.deepcopy(stage).to(memory_format=layout)
    if bwd_as_fwd:
        Conv2dBackwardAsForward.convert(stage)
    return stage


def table(result: dict) -> str:
    rows = [('stage', 'input', 'NHWC byol ms', 'NCHW byol ms',
             'NCHW speed-up', 'fwd/bwd/no-grad ms NHWC',
             'fwd/bwd/no-grad ms NCHW', 'bwd ms: usual -> as fwd',
             'as-fwd speed-up')]
    for r in result['stages']:
        parts = {k: '/'.join(f"{r[k][p]:.1f}" for p in (
            'forward', 'backward', 'forward_no_grad')) for k in LAYOUTS}
        rows.append((r['stage'], 'x'.join(map(str, r['input_shape'])),
                     f"{r['nhwc']['byol_ms']:.1f}",
                     f"{r['nchw']['byol_ms']:.1f}",
                     f"{r['nchw_speedup']:.2f}x", parts['nhwc'],
                     parts['nchw'],
                     f"{r[r['layout']]['backward']:.1f} -> "
                     f"{r[r['layout'] + '_bwd_as_fwd']['backward']:.1f} "
                     f"({r['layout'].upper()})",
                     f"{r['bwd_as_fwd_speedup']:.2f}x"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ['  '.join(c.ljust(w) for c, w in zip(row, widths))
             for row in rows]
    hooks = [dict(type='ChannelsLastHook', keep_nchw=result['keep_nchw'])]
    if result['backward_as_forward']:
        hooks.append(dict(type='ConvBackwardAsForwardHook',
                          stages=result['backward_as_forward']))
    lines.append(f'suggested: custom_hooks += {hooks}')
    return '\n'.join(lines)


def main(argv=None) -> dict:
    args = parse_args(argv)
    reuse_host_memory()  # as mmbyol's runtime trains
    result = measure(args)
    print_report(result, table(result), args.out)
    return result


if __name__ == '__main__':
    main()
