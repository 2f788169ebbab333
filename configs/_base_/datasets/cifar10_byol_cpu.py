# cifar10_byol.py with every augmentation in the data-loader workers.
_base_ = ['cifar10_byol.py']

data_preprocessor = dict(augment_on_device=False)

train_pipeline = [
    dict(type='LoadRGBImage'),
    dict(type='BYOLViews', size=32, photometric=True,
         convention={{_base_.byol_convention}}),
    dict(type='PackInputs', meta_keys=('byol_photometric', )),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
