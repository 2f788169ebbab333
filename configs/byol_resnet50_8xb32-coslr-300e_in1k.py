# The paper's recipe (Grill et al., 2020): ResNet-50, 300 epochs, LARS,
# lr 0.2 x batch/256 with 8 GPUs x 32 images = 256 per step, on an
# ImageNet-style folder at data/imagenet/train. The paper trained with batch
# 4096 (lr 3.2): scale up with --auto-scale-lr or more GPUs.
_base_ = [
    '_base_/models/byol_resnet50.py',
    '_base_/datasets/imagenet_byol.py',
    '_base_/schedules/lars_coslr_300e.py',
    '_base_/byol_runtime.py',
]

# Cross-GPU BatchNorm statistics, as in the paper; MMEngine converts BN to
# SyncBN only when training is distributed.
sync_bn = 'torch'
