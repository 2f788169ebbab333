# Mask R-CNN, ResNet-50-C4, COCO 1x, from the BYOL online encoder: stages
# 1-3 are the backbone and stage 4 is the RoI head's shared ResLayer, so
# both load the exported file (each takes its own keys). MMDetection's C4
# recipe is for Caffe-style weights; BYOL's are PyTorch-style (stride on
# the 3x3 convolution) and expect RGB input normalised by the ImageNet
# mean/std. Export the encoder first:
#   python tools/extract_backbone.py BYOL_CKPT work_dirs/byol_r50_mmdet.pth --format mmdet
# and override both checkpoints together:
#   --cfg-options model.backbone.init_cfg.checkpoint=OUT \
#       model.roi_head.shared_head.init_cfg.checkpoint=OUT
_base_ = 'mmdet::mask_rcnn/mask-rcnn_r50-caffe-c4_1x_coco.py'

pretrained = 'work_dirs/byol_r50_mmdet.pth'
# SyncBN, BN statistics and affine parameters trained, no stage frozen
norm_cfg = dict(type='SyncBN', requires_grad=True)

model = dict(
    data_preprocessor=dict(
        mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    backbone=dict(
        frozen_stages=-1, norm_cfg=norm_cfg, norm_eval=False, style='pytorch',
        init_cfg=dict(type='Pretrained', checkpoint=pretrained)),
    roi_head=dict(
        shared_head=dict(
            style='pytorch', norm_cfg=norm_cfg, norm_eval=False,
            init_cfg=dict(type='Pretrained', checkpoint=pretrained))))
