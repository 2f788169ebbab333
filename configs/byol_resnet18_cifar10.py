# BYOL on CIFAR-10 with ResNet_CIFAR-18 (3x3 stem, no max-pool) on one GPU:
# batch 256, LARS lr 1.0, 10 warm-up epochs then cosine, 200 epochs.
_base_ = [
    '_base_/models/byol_resnet50.py',
    '_base_/datasets/cifar10_byol.py',
    '_base_/schedules/lars_coslr_300e.py',
    '_base_/default_runtime.py',
]

model = dict(
    backbone=dict(type='ResNet_CIFAR', depth=18),
    neck=dict(in_channels=512))

optim_wrapper = dict(optimizer=dict(lr=1.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-4, by_epoch=True, begin=0, end=10,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=190, eta_min=0.0, by_epoch=True,
         begin=10, end=200, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=200)
default_hooks = dict(checkpoint=dict(interval=10, max_keep_ckpts=3))
