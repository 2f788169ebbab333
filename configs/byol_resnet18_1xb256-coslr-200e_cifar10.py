# BYOL on CIFAR-10 with ResNet_CIFAR-18 on one GPU: batch 256, LARS lr 1.0,
# 10 warm-up epochs then cosine, 200 epochs. MMPretrain's CIFAR10 dataset
# downloads the data to data/cifar10 on first use.
_base_ = [
    '_base_/models/byol_resnet18_cifar.py',
    '_base_/datasets/cifar10_byol.py',
    '_base_/schedules/lars_coslr_200e.py',
    '_base_/byol_runtime.py',
]

optim_wrapper = dict(optimizer=dict(lr=1.0))
