# Runtime shared by every mmbyol config, pretraining and downstream alike.
# BYOL's own hooks live in byol_runtime.py, which only pretraining inherits.
default_scope = 'mmbyol'
# weights_only loading, atomic checkpoints, exact resume, CPU gloo fallback
runner_type = 'mmbyol.ReliableRunner'

# A dict merges by key: a child config changes one entry, or adds its own
# (`byol_runtime.py` adds BYOL's), and keeps the rest.
default_hooks = dict(
    runtime_info=dict(type='RuntimeInfoHook'),
    timer=dict(type='IterTimerHook'),
    # progress, losses, tau, lr and the ETA every `interval` iterations
    logger=dict(type='LoggerHook', interval=10),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # with skip_bad_images=True: the distinct unreadable files of each epoch
    skipped_images=dict(type='SkippedImagesHook'),
)

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # nccl on GPUs; ReliableRunner switches to gloo where CUDA is absent
    dist_cfg=dict(backend='nccl'),
    # keep freed host memory in the process instead of returning it to the
    # kernel after every step (glibc); resident memory stays at its peak
    reuse_host_memory=True,
)

log_processor = dict(window_size=10)
# losses, tau, lr, health and kNN scalars: JSON + TensorBoard under
# WORK_DIR/TIMESTAMP/vis_data; draw them with tools/plot_curves.py
vis_backends = [
    dict(type='LocalVisBackend'),
    dict(type='TensorboardVisBackend'),
]
visualizer = dict(type='UniversalVisualizer', vis_backends=vis_backends)

log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=None, deterministic=False)
