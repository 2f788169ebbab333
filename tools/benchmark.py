"""Seconds per BYOL iteration through MMEngine's Runner, optionally side by
side with MMPretrain's own BYOL in the same process.

    python tools/benchmark.py CONFIG [--amp] [--channels-last]
        [--keep-nchw layer4] [--backward-as-forward layer4] [--compile]
        [--against-mmpretrain] [--ablate HOOK ...] [--iters 3] [--warmup 2]
        [--rounds 2] [--cfg-options ...] [--out result.json]

For each side (``mmbyol`` from CONFIG; with ``--against-mmpretrain`` also
``mmpretrain``: MMPretrain's ``BYOL``, ``NonLinearNeck``, ``CosineEMA``,
``LARS`` and its ``imagenet_bs32_byol.py`` augmentations, scope
``mmpretrain``, fp32 NCHW as it ships, with CONFIG's backbone, neck sizes,
batch, data folder, loader and schedule; with ``--ablate HOOK`` also
``mmbyol-ablated``: the mmbyol side without those custom hooks, so that a
speed switch is measured on and off in one run) it measures

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
  that, what the workers could feed with a core each (on a small CPU they
  share the step's cores, and the iteration pays for their time);
* ``syncs_per_iter``: host-device syncs in one whole iteration, and
  ``syncs_optimizer_ema`` in the optimizer step + EMA alone
  (:class:`mmbyol.utils.sync_counter.SyncCounter`);
* ``reuse_host_memory``: the side's ``env_cfg`` glibc setting
  (:func:`mmbyol.utils.reuse_host_memory`), applied while it runs; on for
  mmbyol's configs, off for MMPretrain unless
  ``--anchor-reuse-host-memory``; ``page_faults_per_iter``: the main
  process's minor page faults per timed iteration (median);
* ``peak_rss_mb`` (this process, sampled every 10 ms while the side runs:
  both models are resident; loader workers are separate processes) or
  ``peak_cuda_mb`` (``torch.cuda.max_memory_allocated``);
* how close to the hardware: ``gflop_per_image`` (matmul and convolution
  FLOPs of one ``train_step``, forward and backward, counted by
  ``torch.utils.flop_counter``), ``peak_gflops`` (for each dtype a
  side computes in: the fastest of a large square matmul, a large
  channels-last 3x3 convolution and an NCHW one on 4 x 4 maps, on the same
  device, measured in the run; their own figures in ``peak_detail``),
  ``gflops`` (achieved, whole iteration) and ``fraction_of_peak`` against
  the peak of the side's compute dtype, and ``ceiling_images_per_s``: the
  images/s if every FLOP ran at that peak.

Output: a table and JSON (stdout, and ``--out``).
"""
import argparse
import copy
import os
import os.path as osp
import platform
import statistics
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from typing import Optional

import mmpretrain
import torch
import torch.nn as nn
from mmengine.config import Config, DictAction
from mmengine.logging import MessageHub, MMLogger
from mmengine.optim import AmpOptimWrapper
from mmengine.registry import DefaultScope
from mmengine.runner import IterBasedTrainLoop, Runner
from mmengine.visualization import Visualizer
from tqdm import tqdm

from mmbyol.datasets.transforms import view_size
from mmbyol.utils import register_all_modules, reuse_host_memory
from mmbyol.utils.precision import dtype_name
from mmbyol.utils.report import print_report
from mmbyol.utils.sync_counter import SyncCounter

MMPRETRAIN_VIEWS = osp.join(osp.dirname(mmpretrain.__file__), '.mim',
                            'configs', '_base_', 'datasets',
                            'imagenet_bs32_byol.py')


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
                   help='mmbyol side: ConvBackwardAsForwardHook(stages=...), '
                   'backbone stages whose convolution gradients run as '
                   'forward convolutions (e.g. layer4)')
    p.add_argument('--compile', action='store_true',
                   help='mmbyol side: CompileHook (inductor)')
    p.add_argument('--ablate', nargs='+', default=[], metavar='HOOK',
                   help='also run mmbyol without these custom hooks (e.g. '
                   'ConvBackwardAsForwardHook), as side mmbyol-ablated, '
                   'alternating with the others: a before/after in one run')
    p.add_argument('--anchor-reuse-host-memory', action='store_true',
                   help='mmpretrain side: keep freed host memory too, as '
                   "mmbyol's runtime does (default: glibc's default, as "
                   'MMPretrain ships)')
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


# ----------------------------------------------------------------- configs
def _strip_runner_extras(cfg: Config, max_iters: int, work_dir: str,
                         name: str) -> Config:
    """Iteration-based, no evaluation, no checkpoints, quiet logs."""
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters)
    for key in ('val_dataloader', 'val_cfg', 'val_evaluator',
                'test_dataloader', 'test_cfg', 'test_evaluator'):
        cfg[key] = None
    cfg.default_hooks = dict(cfg.get('default_hooks', {}), checkpoint=None)
    cfg.resume, cfg.load_from = False, None
    cfg.work_dir = osp.join(work_dir, name)
    cfg.experiment_name = f'benchmark-{name}'
    cfg.log_level = 'ERROR'
    return cfg


def mmbyol_config(args, max_iters: int, work_dir: str) -> Config:
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    hooks = [h for h in cfg.get('custom_hooks', [])
             if h.get('type') not in ('KNNHook', )]  # evaluation, not speed
    if args.amp:
        cfg.optim_wrapper.type = 'AutocastOptimWrapper'
        cfg.optim_wrapper.setdefault('dtype', 'auto')
    layout = layout_hook(cfg)
    if (args.channels_last or args.keep_nchw) and not layout:
        layout = dict(type='ChannelsLastHook')
        hooks.append(layout)
    if args.keep_nchw:
        layout['keep_nchw'] = list(args.keep_nchw)
    if args.backward_as_forward:
        grads = conv_backward_hook(cfg)
        if not grads:
            grads = dict(type='ConvBackwardAsForwardHook')
            hooks.append(grads)
        grads['stages'] = list(args.backward_as_forward)
    if args.compile:
        hooks.append(dict(type='CompileHook'))
    cfg.custom_hooks = hooks
    cfg.default_scope = 'mmbyol'
    return _strip_runner_extras(cfg, max_iters, work_dir, 'mmbyol')


def _hook(cfg: Config, name: str) -> dict:
    """The config's ``custom_hooks`` entry of type ``name``, or ``{}``."""
    return next((h for h in cfg.get('custom_hooks', [])
                 if h.get('type') == name), {})


def ablated_config(cfg: Config, hooks, work_dir: str) -> Config:
    """``cfg`` (the mmbyol side's) without the custom hooks of these
    types."""
    present = {h.get('type') for h in cfg.custom_hooks}
    missing = sorted(set(hooks) - present)
    if missing:
        raise ValueError(f'--ablate {" ".join(missing)}: not among the '
                         f'mmbyol side\'s custom hooks ({", ".join(present)})')
    cfg = copy.deepcopy(cfg)
    cfg.custom_hooks = [h for h in cfg.custom_hooks
                        if h.get('type') not in hooks]
    return _strip_runner_extras(cfg, cfg.train_cfg.max_iters, work_dir,
                                'mmbyol-ablated')


def layout_hook(cfg: Config) -> dict:
    """The config's ``ChannelsLastHook`` entry, or ``{}``."""
    return _hook(cfg, 'ChannelsLastHook')


def conv_backward_hook(cfg: Config) -> dict:
    """The config's ``ConvBackwardAsForwardHook`` entry, or ``{}``."""
    return _hook(cfg, 'ConvBackwardAsForwardHook')


def mmpretrain_config(args, byol: Config, max_iters: int,
                      work_dir: str) -> Config:
    """MMPretrain's BYOL with mmbyol's backbone, sizes, batch and data."""
    model = byol.model
    neck = dict(type='NonLinearNeck', in_channels=model.neck.in_channels,
                hid_channels=model.neck.get('hid_channels', 4096),
                out_channels=model.neck.get('out_channels', 256),
                num_layers=2, with_bias=True, with_last_bn=False,
                with_avg_pool=True)
    pred = model.head.predictor
    predictor = dict(neck, in_channels=pred.in_channels,
                     hid_channels=pred.get('hid_channels', 4096),
                     out_channels=pred.get('out_channels', 256),
                     with_avg_pool=False)
    taus = [h.get('base_tau', 0.996) for h in byol.get('custom_hooks', [])
            if h.get('type') == 'BYOLMomentumHook'] or [0.996]
    preproc = byol.model.get('data_preprocessor') or byol.get(
        'data_preprocessor', {})
    views = Config.fromfile(MMPRETRAIN_VIEWS)
    size = args.image_size or view_size(
        byol.train_dataloader.dataset.get('pipeline', []))
    pipeline = copy.deepcopy(views.train_pipeline)
    for view in pipeline[1]['transforms']:
        for t in view:
            if t['type'] == 'RandomResizedCrop':
                t['scale'] = size
            if t['type'] == 'RandomApply':
                # mmcv's adjust_hue overflows under numpy 2: no hue jitter
                t['transforms'][0]['hue'] = 0.
    data = byol.train_dataloader
    opt = byol.optim_wrapper.optimizer
    exclude = dict(decay_mult=0, lars_exclude=True)
    cfg = Config(dict(
        default_scope='mmpretrain',
        model=dict(
            type='BYOL', base_momentum=1 - taus[0],
            backbone=copy.deepcopy(model.backbone), neck=neck,
            head=dict(type='LatentPredictHead', predictor=predictor,
                      loss=dict(type='CosineSimilarityLoss')),
            data_preprocessor=dict(
                type='SelfSupDataPreprocessor',
                mean=preproc.get('mean', views.data_preprocessor.mean),
                std=preproc.get('std', views.data_preprocessor.std),
                to_rgb=True)),
        train_dataloader=dict(
            batch_size=data.batch_size, num_workers=data.num_workers,
            persistent_workers=bool(data.num_workers and
                                    data.get('persistent_workers')),
            drop_last=True, sampler=copy.deepcopy(data.sampler),
            collate_fn=dict(type='default_collate'),
            dataset=dict(type='CustomDataset',
                         data_root=data.dataset.data_root,
                         data_prefix=data.dataset.get('data_prefix', ''),
                         with_label=False, pipeline=pipeline)),
        optim_wrapper=dict(
            type='OptimWrapper',
            optimizer=dict(type='LARS', lr=opt.lr,
                           momentum=opt.get('momentum', 0.9),
                           weight_decay=opt.get('weight_decay', 1e-6)),
            paramwise_cfg=dict(custom_keys={
                'bn': exclude, 'bias': exclude, 'downsample.1': exclude})),
        param_scheduler=copy.deepcopy(byol.get('param_scheduler')),
        default_hooks=copy.deepcopy(byol.default_hooks),
        env_cfg=dict(copy.deepcopy(byol.get('env_cfg', {})),
                     reuse_host_memory=args.anchor_reuse_host_memory),
        randomness=copy.deepcopy(byol.get('randomness', {})),
        log_processor=copy.deepcopy(byol.get('log_processor', {})),
    ))
    return _strip_runner_extras(cfg, max_iters, work_dir, 'mmpretrain')


# ------------------------------------------------------------------ sides
class SteppedLoop(IterBasedTrainLoop):
    """``Runner.train()`` sets everything up; iterations run on demand."""

    def run(self):
        self.runner.call_hook('before_train')
        self.runner.call_hook('before_train_epoch')
        return self.runner.model

    def step(self) -> None:
        self.runner.model.train()
        self.run_iter(next(self.dataloader_iterator))

    def finish(self) -> None:
        self.runner.call_hook('after_train_epoch')
        self.runner.call_hook('after_train')


class Side:
    """One BYOL implementation with its Runner, loop and measurements."""

    _host_memory = None  # the process's current reuse_host_memory setting

    def __init__(self, name: str, cfg: Config) -> None:
        self.name, self.scope = name, cfg.default_scope
        with DefaultScope.overwrite_default_scope(self.scope):
            self.runner = Runner.from_cfg(cfg)
        self.runner._train_loop = dict(type=SteppedLoop,
                                       max_iters=cfg.train_cfg.max_iters)
        self.batch_size = cfg.train_dataloader.batch_size
        self.times = dict(iteration=[], model_step=[])
        self.peak_mem = 0.0
        self.page_faults = []
        self.result = {}
        # the glibc setting of env_cfg, applied while this side runs (the
        # Runner's own setup_env is MMEngine's, which ignores the key)
        self.reuse_host_memory = bool(
            cfg.get('env_cfg', {}).get('reuse_host_memory', False))

    @contextmanager
    def active(self):
        """Make this side's scope, message hub, logger, visualizer current.

        MMPretrain's ``CosineEMA`` reads ``max_iters`` from the *current*
        message hub, which MMEngine defines as the last created one.
        """
        if Side._host_memory != self.reuse_host_memory:
            reuse_host_memory(self.reuse_host_memory)
            Side._host_memory = self.reuse_host_memory
        for cls, inst in ((MessageHub, self.runner.message_hub),
                          (MMLogger, self.runner.logger),
                          (Visualizer, self.runner.visualizer)):
            cls._instance_dict.move_to_end(inst.instance_name)
        with DefaultScope.overwrite_default_scope(self.scope):
            yield

    def setup(self) -> None:
        with self.active():
            self.runner.train()  # builds everything, runs before_train
        self.loop = self.runner.train_loop
        self.model = self.runner.model
        self.optim_wrapper = self.runner.optim_wrapper

    def ema(self):
        """A callable doing one target update, as this side trains it."""
        model = getattr(self.model, 'module', self.model)
        if hasattr(model, 'update_target'):
            return lambda: model.update_target(0.996)
        online = nn.Sequential(model.backbone, model.neck)
        return lambda: model.target_net.update_parameters(online)


# ---------------------------------------------------------------- measure
def device_sync() -> None:
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.synchronize()


class PeakMemory:
    """Peak CPU RSS (sampled every 10 ms) or CUDA max allocated, in MB."""

    def __init__(self) -> None:
        self.cuda = torch.cuda.is_available() and torch.cuda.is_initialized()
        self.peak, self._stop = 0, threading.Event()
        if not self.cuda and osp.exists('/proc/self/statm'):
            import resource
            self._page = resource.getpagesize()
            threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self) -> None:
        while not self._stop.wait(0.01):
            with open('/proc/self/statm') as f:
                rss = int(f.read().split()[1]) * self._page
            self.peak = max(self.peak, rss)

    def reset(self) -> None:
        self.peak = 0
        if self.cuda:
            torch.cuda.reset_peak_memory_stats()

    def read_mb(self) -> float:
        peak = torch.cuda.max_memory_allocated() if self.cuda else self.peak
        return peak / 2**20

    def close(self) -> None:
        self._stop.set()


def minor_page_faults() -> int:
    """Minor page faults of this process so far (0 where unknown)."""
    try:
        import resource
    except ImportError:  # Windows
        return 0
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def _cpu_seconds(pid: int) -> Optional[float]:
    """User + system CPU seconds of process ``pid`` (Linux ``/proc``)."""
    try:
        with open(f'/proc/{pid}/stat') as f:
            fields = f.read().rsplit(')', 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def _loader_workers(loop) -> list:
    """PIDs of the loop's data-loader worker processes ([] if none)."""
    iterator = getattr(loop.dataloader_iterator, '_iterator', None)
    return [w.pid for w in getattr(iterator, '_workers', None) or []]


def _settled_cpu(pids: list, timeout: float = 60.0) -> Optional[float]:
    """The workers' CPU seconds once they stop working (their prefetch
    queue is full): two reads 0.3 s apart that agree."""
    last, deadline = None, time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = [_cpu_seconds(pid) for pid in pids]
        if None in now:
            return None
        if now == last:
            return sum(now)
        last = now
        time.sleep(0.3)
    return None


def loader_cpu_per_batch(loop, batches: int) -> Optional[float]:
    """CPU seconds the loader's workers spend on one batch.

    With the workers idle and their prefetch queue full, ``batches``
    batches are drawn (no step runs) and the workers refill the queue; the
    CPU time they used meanwhile, over ``batches``, is the cost of one
    batch. None without worker processes or ``/proc``.
    """
    pids = _loader_workers(loop)
    if not pids or batches < 1:
        return None
    before = _settled_cpu(pids)
    for _ in range(batches):
        next(loop.dataloader_iterator)
    after = _settled_cpu(pids)
    if before is None or after is None:
        return None
    return (after - before) / batches


def timed(fn) -> float:
    device_sync()
    start = time.perf_counter()
    fn()
    device_sync()
    return time.perf_counter() - start


def summary(times, batch_size) -> dict:
    if not times:
        return {}
    median = statistics.median(times)
    return dict(n=len(times), median_s=median, min_s=min(times),
                max_s=max(times),
                stdev_s=statistics.stdev(times) if len(times) > 1 else 0.0,
                images_per_s=batch_size / median)


def _short(path: str) -> str:
    return path.split('site-packages/')[-1].replace(osp.abspath('.') + '/',
                                                    '')


def matmul_peak_gflops(dtype: torch.dtype, device: str,
                       n: Optional[int] = None, repeats: int = 5) -> float:
    """Best sustained GFLOP/s of a large square matmul."""
    n = n or (8192 if device == 'cuda' else 4096)
    a = torch.randn(n, n, device=device).to(dtype)
    b = torch.randn(n, n, device=device).to(dtype)
    a @ b  # warm-up
    best = min(timed(lambda: a @ b) for _ in range(repeats))
    return 2 * n**3 / best / 1e9


def conv_peak_gflops(dtype: torch.dtype, device: str,
                     n: Optional[int] = None, repeats: int = 5,
                     channels: int = 256, side: int = 32,
                     layout=torch.channels_last) -> float:
    """Best GFLOP/s of a large 3x3 convolution, ``channels`` -> ``channels``
    on ``side`` x ``side`` maps in ``layout``, with as many images as make
    ``n * n`` output values (batch 64 at 256 x 32 x 32, n = 4096)."""
    n = n or (8192 if device == 'cuda' else 4096)
    batch = max(1, n * n // (channels * side * side))
    x = torch.randn(batch, channels, side, side, device=device).to(
        dtype).contiguous(memory_format=layout)
    w = torch.randn(channels, channels, 3, 3, device=device).to(
        dtype).contiguous(memory_format=layout)
    conv = lambda: torch.nn.functional.conv2d(x, w, padding=1)  # noqa: E731
    conv()  # warm-up
    best = min(timed(conv) for _ in range(repeats))
    return 2 * batch * channels**2 * 9 * side**2 / best / 1e9


def peak_detail(dtype: torch.dtype, device: str,
                n: Optional[int] = None) -> dict:
    """GFLOP/s of the kernels whose best is taken as the peak: a square
    matmul, a channels-last 3x3 convolution on 32 x 32 maps, and an NCHW one
    on 4 x 4 maps (on the 2-core CPU the fastest of the three, by about a
    quarter; oneDNN picks other kernels per layout and map size)."""
    return dict(
        matmul=matmul_peak_gflops(dtype, device, n),
        conv3x3=conv_peak_gflops(dtype, device, n),
        conv3x3_nchw_4px=conv_peak_gflops(
            dtype, device, n, channels=512, side=4,
            layout=torch.contiguous_format))


def count_flops(side: Side, batch) -> dict:
    """Matmul/convolution FLOPs of one ``train_step``, per source image."""
    from torch.utils.flop_counter import FlopCounterMode
    try:
        with side.active(), FlopCounterMode(display=False) as counter:
            side.model.train_step(batch, optim_wrapper=side.optim_wrapper)
    except Exception as err:  # e.g. a compiled graph under a dispatch mode
        return dict(flops_error=f'{type(err).__name__}: {err}')
    return dict(gflop_per_image=counter.get_total_flops() / 1e9 /
                side.batch_size)


def roofline(entry: dict, dtype: str, peaks: dict) -> None:
    """Achieved GFLOP/s against the measured peak of the side's dtype."""
    flop = entry.get('gflop_per_image')
    speed = entry['iteration'].get('images_per_s')
    if not flop or not speed or dtype not in peaks:  # e.g. float16
        return
    entry.update(compute_dtype=dtype, gflops=flop * speed,
                 fraction_of_peak=flop * speed / peaks[dtype],
                 ceiling_images_per_s=peaks[dtype] / flop)


def count_syncs(side: Side, batch) -> dict:
    """Syncs in one whole iteration and in optimizer step + EMA alone."""
    out = {}
    try:
        with side.active(), SyncCounter(locate=True) as whole:
            side.loop.step()
        out.update(syncs_per_iter=whole.count, syncs_by_op=dict(whole.by_op),
                   cuda_syncs_per_iter=whole.cuda_count,
                   sync_sites={_short(k): v
                               for k, v in whole.sites.most_common(12)})
        model, wrapper = side.model, side.optim_wrapper
        with side.active():
            with wrapper.optim_context(model):
                data = model.data_preprocessor(batch, True)
                losses = model(**data, mode='loss')
            loss, _ = model.parse_losses(losses)
            wrapper.backward(loss)
            ema = None if hasattr(model, 'update_target') else side.ema()
            with SyncCounter() as step:
                wrapper.step()  # mmbyol's EMA runs in its step post-hook
                if ema is not None:
                    ema()
            wrapper.zero_grad()
        out.update(syncs_optimizer_ema=step.count,
                   cuda_syncs_optimizer_ema=step.cuda_count)
    except Exception as err:  # e.g. a compiled graph under a dispatch mode
        out['syncs_error'] = f'{type(err).__name__}: {err}'
    return out


def run(args) -> dict:
    register_all_modules(init_default_scope=False)
    work_dir = args.work_dir or tempfile.mkdtemp(prefix='mmbyol-bench-')
    per_side = args.rounds * (args.warmup + args.iters) + args.step_iters + 4
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
    memory = PeakMemory()
    total = len(sides) * (per_side - 4)
    with tqdm(total=total, desc='benchmark', file=sys.stderr) as bar:
        for _ in range(args.rounds):
            for side in sides:
                with side.active():
                    memory.reset()
                    for i in range(args.warmup + args.iters):
                        faults = minor_page_faults()
                        t = timed(side.loop.step)
                        if i >= args.warmup:
                            side.times['iteration'].append(t)
                            side.page_faults.append(minor_page_faults() -
                                                    faults)
                        bar.update()
                    side.peak_mem = max(side.peak_mem, memory.read_mb())
        for side in sides:
            side.result['loader_cpu_s_per_batch'] = loader_cpu_per_batch(
                side.loop, args.loader_batches)
            batches = [next(side.loop.dataloader_iterator)
                       for _ in range(max(args.step_iters, 1))]
            with side.active():
                for batch in batches[:args.step_iters]:
                    side.times['model_step'].append(timed(
                        lambda: side.model.train_step(
                            batch, optim_wrapper=side.optim_wrapper)))
                    bar.update()
                ema = side.ema()
                ema_times = [timed(ema) for _ in range(args.ema_repeats)]
            side.result.update(count_flops(side, batches[0]))
            side.result.update(count_syncs(side, batches[0]))
            side.result['ema_ms'] = 1e3 * statistics.median(ema_times) \
                if ema_times else None
    memory.close()
    for side in sides:
        with side.active():
            side.loop.finish()
    device = 'cuda' if memory.cuda else 'cpu'
    # the peaks of the dtypes the sides compute in (an emulated bf16 peak
    # on an AVX2 CPU would take minutes to measure and mean nothing)
    dtypes = sorted({compute_dtype(side) for side in sides})
    detail = {name: peak_detail(getattr(torch, name), device, args.peak_size)
              for name in dtypes}
    return report(args, byol_cfg, sides, memory.cuda, detail)


def compute_dtype(side: Side) -> str:
    """The dtype the side's convolutions run in: its optimizer wrapper's
    resolved autocast dtype (MMEngine's AMP: float16 unless set), else
    float32."""
    wrapper = side.optim_wrapper
    dtype = getattr(wrapper, 'cast_dtype', None) or (
        torch.float16 if isinstance(wrapper, AmpOptimWrapper)
        else torch.float32)
    return dtype_name(dtype)


def report(args, cfg, sides, cuda: bool, detail: dict) -> dict:
    peaks = {name: max(d.values()) for name, d in detail.items()}
    layout = layout_hook(cfg)
    result = dict(
        config=args.config, cfg_options=args.cfg_options,
        mmbyol_settings=dict(
            amp=args.amp, channels_last=bool(layout),
            keep_nchw=list(layout.get('keep_nchw', [])),
            backward_as_forward=list(
                conv_backward_hook(cfg).get('stages', [])),
            compile=args.compile, ablated=list(args.ablate),
            optim_wrapper=cfg.optim_wrapper.get(
                'type', 'OptimWrapper'),
            optimizer=cfg.optim_wrapper.optimizer.type),
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
        roofline(entry, compute_dtype(side), peaks)
        result['sides'][side.name] = entry
    # mmbyol against each other side; 'speedup': against the last one
    first = result['sides'][sides[0].name]
    for side in sides[1:]:
        other = result['sides'][side.name]
        result.setdefault('speedup_over', {})[side.name] = {
            k: first[k]['images_per_s'] / other[k]['images_per_s']
            for k in ('iteration', 'model_step') if first[k] and other[k]}
    if len(sides) > 1:
        result['speedup'] = result['speedup_over'][sides[-1].name]
    return result


def table(result: dict) -> str:
    names = list(result['sides'])
    rows = [('metric', *names)]

    def get(entry, path):
        for key in path.split('.'):
            entry = entry.get(key) if isinstance(entry, dict) else None
        return entry

    for label, path, fmt in [
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
    ]:
        cells = []
        for name in names:
            entry = result['sides'][name]
            if path is None:
                it = entry['iteration']
                cells.append(f"{it['min_s']:.3f}-{it['max_s']:.3f}"
                             if it else '-')
                continue
            value = get(entry, path)
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


def main(argv=None) -> dict:
    args = parse_args(argv)
    result = run(args)
    print_report(result, table(result), args.out)
    return result


if __name__ == '__main__':
    main()
