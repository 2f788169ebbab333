# CIFAR-10 as its folder tree of JPEGs under data/cifar10/train (unpack
# ../shared/data/cifar10/train.tar.gz there; any image folder works), labels
# unused; two 32 px views, T and T' of the paper, on the batched device path
# of imagenet_byol.py. At 32 px the blur kernel has 3 taps (about a tenth of
# the side, as DeepMind's code scales it). For the all-CPU pipeline inherit
# cifar10_byol_cpu.py instead. With a network, MMPretrain's 'CIFAR10'
# dataset (binary batches) also works: dataset=dict(type='mmpretrain.CIFAR10',
# data_root='data/cifar10', split='train') with LoadRGBImage dropped, as it
# yields RGB arrays in 'img'.
_base_ = ['imagenet_byol.py']

data_root = 'data/cifar10/'

data_preprocessor = dict(
    mean=[125.307, 122.961, 113.8575], std=[51.5865, 50.847, 51.255])

train_pipeline = [
    dict(type='LoadRGBImage'),
    dict(type='BYOLViews', size=32, photometric=False,
         convention={{_base_.byol_convention}}),
    dict(type='PackInputs', meta_keys=('img_path', 'byol_photometric')),
]

train_dataloader = dict(
    batch_size=256,
    num_workers=2,
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
