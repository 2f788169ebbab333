# CIFAR-10 as its folder tree of JPEGs under data/cifar10/train (unpack
# ../shared/data/cifar10/train.tar.gz there; any image folder works), labels
# unused; two 32 px views, T and T' of the paper. At 32 px the blur kernel
# has 3 taps (about a tenth of the side, as DeepMind's code scales it).
#
# Batched device path: the workers decode, crop and flip; the colour ops run
# batched in BYOLDataPreprocessor. For the all-CPU pipeline inherit
# cifar10_byol_cpu.py instead. With a network, MMPretrain's 'CIFAR10'
# dataset (binary batches) also works: dataset=dict(type='mmpretrain.CIFAR10',
# data_root='data/cifar10', split='train') with LoadRGBImage dropped, as it
# yields RGB arrays in 'img'.
dataset_type = 'ImageFolderDataset'
data_root = 'data/cifar10/'

byol_convention = 'torchvision'

# LoadRGBImage gives RGB, so no channel swap (to_rgb=False).
data_preprocessor = dict(
    type='BYOLDataPreprocessor',
    mean=[125.307, 122.961, 113.8575],
    std=[51.5865, 50.847, 51.255],
    to_rgb=False,
    augment_on_device=True,
    convention=byol_convention)

train_pipeline = [
    dict(type='LoadRGBImage'),
    dict(type='BYOLViews', size=32, photometric=False,
         convention=byol_convention),
    dict(type='PackInputs', meta_keys=('img_path', 'byol_photometric')),
]

train_dataloader = dict(
    batch_size=256,
    num_workers=2,
    persistent_workers=True,
    drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix='train',
        skip_bad_images=False,
        pipeline=train_pipeline),
)
