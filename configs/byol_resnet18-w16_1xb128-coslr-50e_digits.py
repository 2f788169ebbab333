# `make demo`: BYOL on the handwritten digits bundled with scikit-learn, on
# the CPU in a few minutes. A narrow ResNet_CIFAR-18 on 16 px images; the
# kNN evaluation uses the held-out 30% of every digit.
_base_ = [
    '_base_/models/byol_resnet18_cifar.py',
    '_base_/schedules/lars_coslr_300e.py',
    '_base_/byol_runtime.py',
]

image_size = 16
model = dict(
    backbone=dict(stem_channels=16, base_channels=16),
    neck=dict(in_channels=128, hid_channels=512, out_channels=128),
    head=dict(
        predictor=dict(in_channels=128, hid_channels=512, out_channels=128)),
    data_preprocessor=dict(
        type='SelfSupDataPreprocessor', mean=[127.5] * 3, std=[127.5] * 3))

# Digits are grey and not mirror-symmetric: crops, brightness/contrast and
# blur are the augmentations that apply.
view_pipeline = [
    dict(type='RandomResizedCrop', scale=image_size,
         crop_ratio_range=(0.6, 1.0), backend='pillow',
         interpolation='bicubic'),
    dict(type='RandomApply',
         transforms=[dict(type='ColorJitter', brightness=0.4, contrast=0.4)],
         prob=0.8),
]
train_dataloader = dict(
    batch_size=128,
    num_workers=0,
    drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='DigitsDataset', split='train', image_size=image_size,
        pipeline=[
            dict(type='MultiView', num_views=2, transforms=[view_pipeline]),
            dict(type='PackInputs'),
        ]))

# kNN evaluation sets: labelled bank (train split) and held-out queries.
knn_bank = dict(type='DigitsDataset', split='train', image_size=image_size,
                pipeline=[dict(type='PackInputs')])
knn_query = dict(type='DigitsDataset', split='test', image_size=image_size,
                 pipeline=[dict(type='PackInputs')])

epochs = 50
optim_wrapper = dict(optimizer=dict(lr=1.0, weight_decay=1e-5))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=3,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=epochs - 3, eta_min=0.0,
         by_epoch=True, begin=3, end=epochs, convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=epochs)
default_hooks = dict(
    byol_momentum=dict(base_tau=0.99),
    logger=dict(interval=5),
    checkpoint=dict(interval=epochs, max_keep_ckpts=1))
randomness = dict(seed=0)
