# CIFAR-10 through MMPretrain's CIFAR10 dataset: the python batches are
# downloaded to data/cifar10 on first use (labels unused); two 32 px views,
# T and T' of the paper, on the batched device path of imagenet_byol.py.
# At 32 px the blur kernel has 3 taps (a tenth of the side, as DeepMind's
# code scales it). For the all-CPU pipeline inherit cifar10_byol_cpu.py.
# A folder of CIFAR-10 images works as any image folder does:
# dataset=dict(type='ImageFolderDataset', data_root=..., data_prefix='train',
# pipeline=train_pipeline, _delete_=True).
_base_ = ['imagenet_byol.py']

data_root = 'data/cifar10/'

data_preprocessor = dict(
    mean=[125.307, 122.961, 113.8575], std=[51.5865, 50.847, 51.255])

# LoadRGBImage passes CIFAR10's RGB arrays through unchanged.
train_pipeline = [
    dict(type='LoadRGBImage'),
    dict(type='BYOLViews', size=32, photometric=False,
         convention={{_base_.byol_convention}}),
    dict(type='PackInputs', meta_keys=('byol_photometric', )),
]

train_dataloader = dict(
    batch_size=256,
    num_workers=2,
    dataset=dict(
        type='mmpretrain.CIFAR10', data_root=data_root, split='train',
        download=True, pipeline=train_pipeline, _delete_=True))
