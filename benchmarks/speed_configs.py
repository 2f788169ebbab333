"""The configs of the speed harness's sides (``benchmarks/speed.py``).

* ``mmbyol``: the config under test, iteration-based, with the speed
  switches of the command line;
* ``mmbyol-ablated``: the same without some of its custom hooks;
* ``mmpretrain``: MMPretrain's ``BYOL``, ``NonLinearNeck``, ``CosineEMA``,
  ``LARS`` and ``imagenet_bs32_byol.py`` augmentations, scope
  ``mmpretrain``, fp32 NCHW as it ships, with the mmbyol side's backbone,
  neck sizes, batch, images, loader and schedule.
"""
import copy
import os.path as osp

import mmpretrain
from mmengine.config import Config
from mmengine.registry import HOOKS as MMENGINE_HOOKS

# registers ConvBackwardAsForwardHook (--backward-as-forward)
import benchmarks.experiments.conv_backward_hook  # noqa: F401
from benchmarks.cifar_jpegs import unpack, use_images
from mmbyol.datasets.transforms import view_size

MMPRETRAIN_VIEWS = osp.join(osp.dirname(mmpretrain.__file__), '.mim',
                            'configs', '_base_', 'datasets',
                            'imagenet_bs32_byol.py')


def strip_runner_extras(cfg: Config, max_iters: int, work_dir: str,
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


def custom_hook(cfg: Config, name: str) -> dict:
    """The config's ``custom_hooks`` entry of type ``name``, or ``{}``."""
    return next((h for h in cfg.get('custom_hooks', [])
                 if h.get('type') == name), {})


def trains_on_cifar10(cfg: Config) -> bool:
    """Whether the config trains on MMPretrain's ``CIFAR10`` data set."""
    kind = str(cfg.train_dataloader.dataset.get('type', ''))
    return kind.split('.')[-1] == 'CIFAR10'


def mmbyol_config(args, max_iters: int, work_dir: str) -> Config:
    """``args.config`` with the switches of ``args``, on ``args.images``
    (default for a CIFAR10 config: the CIFAR-10 JPEGs, unpacked once)."""
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    images = args.images
    if images is None and trains_on_cifar10(cfg):
        images = unpack() / 'train'
    if images:
        use_images(cfg, images)
    hooks = [h for h in cfg.get('custom_hooks', [])
             if h.get('type') not in ('KNNHook', )]  # evaluation, not speed
    if args.amp:
        cfg.optim_wrapper.type = 'AutocastOptimWrapper'
        cfg.optim_wrapper.setdefault('dtype', 'auto')
    layout = custom_hook(cfg, 'ChannelsLastHook')
    if (args.channels_last or args.keep_nchw) and not layout:
        layout = dict(type='ChannelsLastHook')
        hooks.append(layout)
    if args.keep_nchw:
        layout['keep_nchw'] = list(args.keep_nchw)
    if args.backward_as_forward:
        grads = custom_hook(cfg, 'ConvBackwardAsForwardHook')
        if not grads:
            grads = dict(type='ConvBackwardAsForwardHook')
            hooks.append(grads)
        grads['stages'] = list(args.backward_as_forward)
    cfg.custom_hooks = hooks
    cfg.default_scope = 'mmbyol'
    return strip_runner_extras(cfg, max_iters, work_dir, 'mmbyol')


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
    return strip_runner_extras(cfg, cfg.train_cfg.max_iters, work_dir,
                               'mmbyol-ablated')


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
    taus = [h.get('base_tau', 0.996)
            for h in [*byol.get('custom_hooks', []),
                      *byol.get('default_hooks', {}).values()]
            if h and h.get('type') == 'BYOLMomentumHook'] or [0.996]
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
    # MMEngine's own hooks only: mmbyol's (the EMA among them) stay behind,
    # MMPretrain's BYOL updates its target inside the model
    default_hooks = {k: v for k, v in byol.default_hooks.items()
                     if not v or MMENGINE_HOOKS.get(v.get('type')) is not None}
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
        default_hooks=copy.deepcopy(default_hooks),
        env_cfg=dict(copy.deepcopy(byol.get('env_cfg', {})),
                     reuse_host_memory=args.anchor_reuse_host_memory),
        randomness=copy.deepcopy(byol.get('randomness', {})),
        log_processor=copy.deepcopy(byol.get('log_processor', {})),
    ))
    return strip_runner_extras(cfg, max_iters, work_dir, 'mmpretrain')
