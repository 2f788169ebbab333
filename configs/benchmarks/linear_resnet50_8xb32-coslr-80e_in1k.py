# Linear evaluation of a BYOL ResNet-50 (paper, App. C.1): the encoder is
# frozen (all stages, BN in eval mode), a linear layer on its pooled 2048-d
# features is trained with SGD + Nesterov momentum 0.9, no weight decay,
# lr 0.2 x batch / 256, cosine decay, 80 epochs; random resized crop + flip
# for training, centre crop for evaluation.
#
# Data: class-folder trees data/imagenet/train and data/imagenet/val
# (ImageNet after the usual val/ reorganisation, or any labelled images of
# your own: the folder holding an image is its class, nested folders
# included). The number of classes is read from the data.
#
# First export the online encoder:
#   python tools/extract_backbone.py work_dirs/byol_resnet50_8xb32-coslr-300e_in1k/epoch_300.pth \
#       work_dirs/byol_resnet50_8xb32-coslr-300e_in1k/backbone.pth
_base_ = ['../_base_/default_runtime.py']

pretrained = 'work_dirs/byol_resnet50_8xb32-coslr-300e_in1k/backbone.pth'
data_root = 'data/imagenet/'

# num_classes=None: taken from the training data's class folders
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='ResNet', depth=50, norm_cfg=dict(type='BN'),
        frozen_stages=4, norm_eval=True,
        init_cfg=dict(type='Pretrained', checkpoint=pretrained)),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead', num_classes=None, in_channels=2048,
        loss=dict(type='CrossEntropyLoss'), topk=(1, 5)),
    # RGB in, as BYOL was trained (LoadRGBImage): no channel swap
    data_preprocessor=dict(
        type='ClsDataPreprocessor', num_classes=None,
        mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
        to_rgb=False))

train_pipeline = [
    dict(type='LoadRGBImage'),
    dict(type='RandomResizedCrop', scale=224, backend='pillow'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadRGBImage'),
    dict(type='ResizeEdge', scale=256, edge='short', backend='pillow'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=32, num_workers=8, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='ImageFolderDataset', data_root=data_root,
                 data_prefix='train', with_label=True,
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=64, num_workers=8, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='ImageFolderDataset', data_root=data_root,
                 data_prefix='val', with_label=True,
                 pipeline=test_pipeline))
val_evaluator = dict(type='Accuracy', topk=(1, 5))
test_dataloader = val_dataloader
test_evaluator = val_evaluator

epochs = 80
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.2, momentum=0.9, nesterov=True,
                   weight_decay=0.0))
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=epochs, eta_min=0.0, by_epoch=True,
         begin=0, end=epochs, convert_to_iter_based=True)
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=epochs,
                 val_interval=10)
val_cfg = dict()
test_cfg = dict()
# lr is 0.2 at 256 images per step; `--auto-scale-lr` rescales it.
auto_scale_lr = dict(base_batch_size=256)

default_hooks = dict(
    checkpoint=dict(interval=10, max_keep_ckpts=2, save_best='auto'))
