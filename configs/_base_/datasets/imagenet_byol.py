# Unlabelled ImageNet-style folder (class sub-folders at any depth, or none)
# under data/imagenet/train; two 224 px views per image, T and T' of the
# paper (Grill et al., 2020, Table 6).
#
# Batched device path: the workers only decode (RGB), crop and flip; colour
# jitter, grayscale, blur and solarize run batched on the model's device in
# BYOLDataPreprocessor with per-sample parameters. For the all-CPU pipeline
# inherit imagenet_byol_cpu.py instead.
dataset_type = 'ImageFolderDataset'
data_root = 'data/imagenet/'

# T and T' (colour convention 'torchvision' or DeepMind's 'dm_exact').
byol_convention = 'torchvision'

# LoadRGBImage gives RGB, so no channel swap (to_rgb=False).
data_preprocessor = dict(
    type='BYOLDataPreprocessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=False,
    augment_on_device=True,
    convention=byol_convention)

train_pipeline = [
    dict(type='LoadRGBImage'),
    dict(type='BYOLViews', size=224, photometric=False,
         convention=byol_convention),
    dict(type='PackInputs', meta_keys=('img_path', 'byol_photometric')),
]

train_dataloader = dict(
    batch_size=32,
    num_workers=8,
    persistent_workers=True,
    drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix='train',
        # True: an unreadable image is skipped with a counted warning
        skip_bad_images=False,
        pipeline=train_pipeline),
)
