# BYOL for 32 px images: ResNet_CIFAR-18 (3x3 stride-1 stem, no max-pool)
# with the paper's projector and predictor (byol_resnet50.py).
_base_ = ['byol_resnet50.py']

model = dict(
    backbone=dict(type='ResNet_CIFAR', depth=18),
    neck=dict(in_channels=512))
