# Semi-supervised CIFAR-10: fine-tune the whole BYOL ResNet_CIFAR-18 on a
# seeded, class-balanced 1% of the training images (50 per class), evaluate
# on the 10,000 test images. Same deltas as the ImageNet 1% config.
_base_ = ['linear_resnet18_1xb256-coslr-80e_cifar10.py']

epochs = 30

model = dict(backbone=dict(frozen_stages=-1, norm_eval=False))
# 500 images: batch 64 keeps several steps per epoch
train_dataloader = dict(
    batch_size=64,
    dataset=dict(type='ClassBalancedSubset', fraction=0.01, seed=0,
                 dataset={{_base_.train_dataloader.dataset}}, _delete_=True))

optim_wrapper = dict(
    optimizer=dict(lr=0.005),  # 0.02 x 64 / 256
    paramwise_cfg=dict(custom_keys={'head': dict(lr_mult=10.0)}))
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=epochs, eta_min=0.0, by_epoch=True,
         begin=0, end=epochs, convert_to_iter_based=True)
]
train_cfg = dict(max_epochs=epochs, val_interval=5)
