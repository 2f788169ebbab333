# As the 1% config, on SimCLR's 10percent.txt (about 128 images per class),
# 20 epochs.
_base_ = ['semi_resnet50_8xb32-coslr-30e_in1k-1pct.py']

subset_file = 'meta/train_10pct.txt'
epochs = 20

train_dataloader = dict(dataset=dict(ann_file=subset_file))
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=epochs, eta_min=0.0, by_epoch=True,
         begin=0, end=epochs, convert_to_iter_based=True)
]
train_cfg = dict(max_epochs=epochs)
