# Linear evaluation on CIFAR-10 of a BYOL ResNet_CIFAR-18 (the encoder of
# configs/byol_resnet18_1xb256-coslr-200e_cifar10.py), the protocol of
# linear_resnet50_8xb32-coslr-80e_in1k.py at 32 px: trained on the 50,000
# training images, evaluated on the 10,000 test images (MMPretrain's
# CIFAR10, downloaded to data/cifar10 on first use). Export first:
#   python tools/extract_backbone.py work_dirs/byol_resnet18_1xb256-coslr-200e_cifar10/epoch_200.pth \
#       work_dirs/byol_resnet18_1xb256-coslr-200e_cifar10/backbone.pth
_base_ = ['linear_resnet50_8xb32-coslr-80e_in1k.py']

pretrained = 'work_dirs/byol_resnet18_1xb256-coslr-200e_cifar10/backbone.pth'
data_root = 'data/cifar10/'

model = dict(
    backbone=dict(type='ResNet_CIFAR', depth=18,
                  init_cfg=dict(type='Pretrained', checkpoint=pretrained)),
    head=dict(in_channels=512),
    data_preprocessor=dict(mean=[125.307, 122.961, 113.8575],
                           std=[51.5865, 50.847, 51.255]))

# LoadRGBImage passes CIFAR10's RGB arrays through unchanged.
train_pipeline = [
    dict(type='LoadRGBImage'),
    dict(type='RandomResizedCrop', scale=32, backend='pillow'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackInputs'),
]
test_pipeline = [dict(type='LoadRGBImage'), dict(type='PackInputs')]
train_dataloader = dict(
    batch_size=256, num_workers=4,
    dataset=dict(type='mmpretrain.CIFAR10', data_root=data_root,
                 split='train', pipeline=train_pipeline, _delete_=True))
val_dataloader = dict(
    batch_size=256, num_workers=4,
    dataset=dict(type='mmpretrain.CIFAR10', data_root=data_root,
                 split='test', pipeline=test_pipeline, _delete_=True))
test_dataloader = val_dataloader
