# Semi-supervised CIFAR-10: fine-tune the whole BYOL ResNet_CIFAR-18 on a
# seeded, class-balanced 1% of the training images (45 per class, drawn from
# images 0-4499), validate on the held-out images 4500-4999. Same deltas as
# the ImageNet 1% config. Make the subsets (seed 0) once:
#   python tools/make_semi_subsets.py cifar10 --data-root data/cifar10 --seed 0
_base_ = [
    '../linear_eval/byol-linear_resnet18-cifar_1xb256-nesterov-coslr-80e_cifar10.py'
]

subset_file = 'meta/train_1pct_seed0.txt'
epochs = 30

model = dict(backbone=dict(frozen_stages=-1, norm_eval=False))
# 450 images: batch 64 keeps several steps per epoch
train_dataloader = dict(batch_size=64, dataset=dict(ann_file=subset_file))

optim_wrapper = dict(
    optimizer=dict(lr=0.005),  # 0.02 x 64 / 256
    paramwise_cfg=dict(custom_keys={'head': dict(lr_mult=10.0)}))
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=epochs, eta_min=0.0, by_epoch=True,
         begin=0, end=epochs, convert_to_iter_based=True)
]
train_cfg = dict(max_epochs=epochs, val_interval=5)
