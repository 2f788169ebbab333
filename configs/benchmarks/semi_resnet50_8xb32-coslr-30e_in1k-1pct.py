# Semi-supervised ImageNet: fine-tune the whole BYOL ResNet-50 on 1% of the
# labels (SimCLR's subset list, about 13 images per class). Deltas from the
# linear protocol: every stage trainable, BN in training mode, encoder lr
# 0.02 and head lr 0.2 (x batch / 256), no weight decay, cosine, 30 epochs.
# Convert SimCLR's 1percent.txt once (labels numbered like the class
# folders of data/imagenet/val):
#   python tools/make_semi_subsets.py imagenet --simclr-file /path/to/1percent.txt \
#       --data-root data/imagenet --out data/imagenet/meta/train_1pct.txt
# On your own class-folder tree, use a seeded class-balanced subset instead:
#   train_dataloader.dataset = dict(type='ClassBalancedSubset', fraction=0.01,
#       dataset=dict(type='ImageFolderDataset', data_root=..., ...))
_base_ = ['linear_resnet50_8xb32-coslr-80e_in1k.py']

subset_file = 'meta/train_1pct.txt'  # relative to data_root
epochs = 30

# a file list names no classes: ImageNet's 1000 are stated
model = dict(backbone=dict(frozen_stages=-1, norm_eval=False),
             head=dict(num_classes=1000),
             data_preprocessor=dict(num_classes=1000))
train_dataloader = dict(
    dataset=dict(type='FileListDataset', data_root='data/imagenet/',
                 ann_file=subset_file, data_prefix='train', _delete_=True,
                 pipeline={{_base_.train_pipeline}}))

optim_wrapper = dict(
    optimizer=dict(lr=0.02),
    paramwise_cfg=dict(custom_keys={'head': dict(lr_mult=10.0)}))
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=epochs, eta_min=0.0, by_epoch=True,
         begin=0, end=epochs, convert_to_iter_based=True)
]
train_cfg = dict(max_epochs=epochs, val_interval=5)
