# BYOL that learns within 30 minutes of a 2-core CPU (the quality benchmark,
# benchmarks/quality.py, fits epochs and warm-up + cosine to a budget).
# Versus byol_resnet18_1xb256-coslr-200e_cifar10.py: ResNet_CIFAR-18 at
# width 16 (16x fewer FLOPs), 24 px views, projector/predictor 1024 -> 128,
# batch 128 (twice the steps per epoch), tau 0.99 (the target must move
# within a few thousand steps), crops of at least 20% of the image and no
# Gaussian blur (at 24 px, tiny crops and blur erase the image; SimCLR's
# CIFAR setup drops blur too).
_base_ = ['byol_resnet18_1xb256-coslr-200e_cifar10.py']

size = 24
view_specs = [dict(crop_area=(0.2, 1.0), blur_prob=0.0),
              dict(crop_area=(0.2, 1.0), blur_prob=0.0)]

model = dict(
    backbone=dict(stem_channels=16, base_channels=16),
    neck=dict(in_channels=128, hid_channels=1024, out_channels=128),
    head=dict(predictor=dict(in_channels=128, hid_channels=1024,
                             out_channels=128)))
data_preprocessor = dict(view_specs=view_specs)
train_dataloader = dict(
    batch_size=128,
    num_workers=1,
    dataset=dict(pipeline=[
        dict(type='LoadRGBImage'),
        dict(type='BYOLViews', size=size, photometric=False,
             view_specs=view_specs),
        dict(type='PackInputs', meta_keys=('byol_photometric', )),
    ]))
optim_wrapper = dict(optimizer=dict(lr=1.0, weight_decay=1e-5))
default_hooks = dict(
    logger=dict(interval=50),
    byol_momentum=dict(base_tau=0.99))
