# Linear evaluation on CIFAR-10 of a BYOL ResNet_CIFAR-18 (the encoder of
# configs/byol_resnet18_cifar10.py), the ImageNet protocol at 32 px: frozen
# encoder in eval mode, SGD-Nesterov, lr 0.2 x batch / 256, cosine, 80
# epochs. Training images are 0-4499 of each class, validation the held-out
# 4500-4999. Prepare once:
#   python tools/make_semi_subsets.py cifar10 --data-root data/cifar10
#   python tools/extract_backbone.py work_dirs/byol_resnet18_cifar10/epoch_200.pth \
#       work_dirs/byol_resnet18_cifar10/backbone.pth --format mmpretrain
_base_ = ['./byol-linear_resnet50_8xb32-nesterov-coslr-80e_in1k.py']

pretrained = 'work_dirs/byol_resnet18_cifar10/backbone.pth'
data_root = 'data/cifar10/'
classes = ('airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog',
           'horse', 'ship', 'truck')

model = dict(
    backbone=dict(type='ResNet_CIFAR', depth=18,
                  init_cfg=dict(type='Pretrained', checkpoint=pretrained)),
    head=dict(num_classes=10, in_channels=512),
    data_preprocessor=dict(
        num_classes=10, mean=[125.307, 122.961, 113.8575],
        std=[51.5865, 50.847, 51.255]))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=32, backend='pillow'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackInputs'),
]
test_pipeline = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]
split = dict(type='CustomDataset', data_root=data_root, data_prefix='train',
             with_label=True, metainfo=dict(classes=classes))
train_dataloader = dict(
    batch_size=256, num_workers=4,
    dataset=dict(split, ann_file='meta/train.txt', pipeline=train_pipeline,
                 _delete_=True))
val_dataloader = dict(
    batch_size=256, num_workers=4,
    dataset=dict(split, ann_file='meta/val.txt', pipeline=test_pipeline,
                 _delete_=True))
test_dataloader = val_dataloader
