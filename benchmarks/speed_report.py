"""The speed harness's result: one JSON-ready dict and a table."""
import platform
import statistics

import torch

from benchmarks.instruments.roofline import compute_dtype, roofline
from benchmarks.instruments.timing import summary
from benchmarks.speed_configs import custom_hook


def report(args, cfg, sides, cuda: bool, detail: dict) -> dict:
    """Every side's measurements, the run's settings and the speed-ups of
    the first side (mmbyol) over each other side."""
    peaks = {name: max(d.values()) for name, d in detail.items()}
    layout = custom_hook(cfg, 'ChannelsLastHook')
    result = dict(
        config=args.config, cfg_options=args.cfg_options,
        mmbyol_settings=dict(
            amp=args.amp, channels_last=bool(layout),
            keep_nchw=list(layout.get('keep_nchw', [])),
            backward_as_forward=list(custom_hook(
                cfg, 'ConvBackwardAsForwardHook').get('stages', [])),
            ablated=list(args.ablate),
            optim_wrapper=cfg.optim_wrapper.get('type', 'OptimWrapper'),
            optimizer=cfg.optim_wrapper.optimizer.type),
        dataset={k: v for k, v in cfg.train_dataloader.dataset.items()
                 if k != 'pipeline'},
        batch_size=cfg.train_dataloader.batch_size,
        num_workers=cfg.train_dataloader.num_workers,
        device=torch.cuda.get_device_name() if cuda else platform.processor()
        or platform.machine(),
        torch=torch.__version__, torch_threads=torch.get_num_threads(),
        iters=args.iters, warmup=args.warmup, rounds=args.rounds,
        peak_gflops=peaks, peak_detail=detail, sides={})
    for side in sides:
        entry = dict(iteration=summary(side.times['iteration'],
                                       side.batch_size),
                     model_step=summary(side.times['model_step'],
                                        side.batch_size))
        entry['peak_cuda_mb' if cuda else 'peak_rss_mb'] = side.peak_mem
        entry['reuse_host_memory'] = side.reuse_host_memory
        entry['page_faults_per_iter'] = statistics.median(
            side.page_faults) if side.page_faults else None
        entry.update(side.result)
        cpu = entry.get('loader_cpu_s_per_batch')
        # what the workers could feed if each had a core to itself
        entry['loader_bound_images_per_s'] = (
            cfg.train_dataloader.num_workers * side.batch_size / cpu
            if cpu else None)
        roofline(entry, compute_dtype(side.optim_wrapper), peaks)
        result['sides'][side.name] = entry
    first = result['sides'][sides[0].name]
    for side in sides[1:]:
        other = result['sides'][side.name]
        result.setdefault('speedup_over', {})[side.name] = {
            k: first[k]['images_per_s'] / other[k]['images_per_s']
            for k in ('iteration', 'model_step') if first[k] and other[k]}
    if len(sides) > 1:  # 'speedup': over the last side
        result['speedup'] = result['speedup_over'][sides[-1].name]
    return result


ROWS = [
    ('s/iter (median)', 'iteration.median_s', '{:.3f}'),
    ('s/iter (min-max)', None, None),
    ('images/s', 'iteration.images_per_s', '{:.1f}'),
    ('model step s (median)', 'model_step.median_s', '{:.3f}'),
    ('model step images/s', 'model_step.images_per_s', '{:.1f}'),
    ('EMA update ms', 'ema_ms', '{:.2f}'),
    ('loader CPU s / batch', 'loader_cpu_s_per_batch', '{:.3f}'),
    ('loader-bound images/s', 'loader_bound_images_per_s', '{:.0f}'),
    ('syncs / iteration', 'syncs_per_iter', '{}'),
    ('syncs optimizer+EMA', 'syncs_optimizer_ema', '{}'),
    ('GFLOP / image', 'gflop_per_image', '{:.2f}'),
    ('achieved GFLOP/s', 'gflops', '{:.0f}'),
    ('compute dtype', 'compute_dtype', '{}'),
    ('fraction of peak', 'fraction_of_peak', '{:.2f}'),
    ('images/s at peak', 'ceiling_images_per_s', '{:.1f}'),
    ('peak RSS MB', 'peak_rss_mb', '{:.0f}'),
    ('peak CUDA MB', 'peak_cuda_mb', '{:.0f}'),
    ('reuse host memory', 'reuse_host_memory', '{}'),
    ('page faults / iteration', 'page_faults_per_iter', '{:.0f}'),
]


def _get(entry, path: str):
    for key in path.split('.'):
        entry = entry.get(key) if isinstance(entry, dict) else None
    return entry


def table(result: dict) -> str:
    """One row per metric, one column per side, then the speed-ups."""
    names = list(result['sides'])
    rows = [('metric', *names)]
    for label, path, fmt in ROWS:
        cells = []
        for name in names:
            entry = result['sides'][name]
            if path is None:
                it = entry['iteration']
                cells.append(f"{it['min_s']:.3f}-{it['max_s']:.3f}"
                             if it else '-')
                continue
            value = _get(entry, path)
            cells.append('-' if value is None else fmt.format(value))
        if any(c != '-' for c in cells):
            rows.append((label, *cells))
    for name, speedup in result.get('speedup_over', {}).items():
        for key, value in speedup.items():
            rows.append((f'speedup {key} over {name}', f'{value:.2f}x',
                         *[''] * (len(names) - 1)))
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    return '\n'.join('  '.join(str(c).ljust(w) for c, w in zip(r, widths))
                     for r in rows)
