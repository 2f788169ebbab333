# BYOL with the paper's networks: ResNet-50 encoder, projector and predictor
# MLPs 4096 -> 256 with BN + ReLU (Sec. 3.3). BN here; the 8-GPU recipe
# switches to SyncBN. The last BN of every residual block starts at zero
# (zero_init_residual, MMPretrain's default; Goyal et al., 2017).
model = dict(
    type='BYOL',
    backbone=dict(type='ResNet', depth=50, norm_cfg=dict(type='BN')),
    neck=dict(
        type='BYOLNeck', in_channels=2048, hid_channels=4096,
        out_channels=256),
    head=dict(
        type='LatentPredictHead',
        predictor=dict(
            type='BYOLNeck', in_channels=256, hid_channels=4096,
            out_channels=256)),
)
