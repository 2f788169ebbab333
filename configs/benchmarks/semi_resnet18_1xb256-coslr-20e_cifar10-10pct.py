# As the CIFAR-10 1% config, on 10% of the labels (500 per class), batch
# 256, 20 epochs.
_base_ = ['semi_resnet18_1xb64-coslr-30e_cifar10-1pct.py']

epochs = 20

train_dataloader = dict(batch_size=256, dataset=dict(fraction=0.1))
optim_wrapper = dict(optimizer=dict(lr=0.02))  # 0.02 x 256 / 256
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=epochs, eta_min=0.0, by_epoch=True,
         begin=0, end=epochs, convert_to_iter_based=True)
]
train_cfg = dict(max_epochs=epochs)
