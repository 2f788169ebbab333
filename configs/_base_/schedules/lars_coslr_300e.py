# The paper's optimisation (Sec. 3.3 / App. C): LARS, momentum 0.9, trust
# coefficient 1e-3, weight decay 1.5e-6; biases and BN parameters excluded
# from weight decay and LARS adaptation; lr = 0.2 x batch / 256, linear
# warm-up for 10 epochs, then cosine decay to 0; 300 epochs.
optim_wrapper = dict(
    type='OptimWrapper',
    constructor='BYOLOptimWrapperConstructor',
    optimizer=dict(
        type='FusedLARS', lr=0.2, momentum=0.9, weight_decay=1.5e-6,
        eta=1e-3),  # LARS without host-device syncs (docs/speed.md)
    paramwise_cfg=dict(exclude_bias_and_norm=True),
)

param_scheduler = [
    dict(type='LinearLR', start_factor=1e-4, by_epoch=True, begin=0, end=10,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=290, eta_min=0.0, by_epoch=True,
         begin=10, end=300, convert_to_iter_based=True),
]

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=300)

# `--auto-scale-lr` rescales lr from this batch size (0.2 at 256).
auto_scale_lr = dict(base_batch_size=256)
