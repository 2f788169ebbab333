# Mask R-CNN, ResNet-50-FPN, COCO 1x (MMDetection's recipe: 8 GPUs x 2
# images, SGD lr 0.02, 12 epochs), backbone initialised from the BYOL online
# encoder instead of torchvision's. Export it first:
#   python tools/extract_backbone.py BYOL_CKPT work_dirs/byol_r50_mmdet.pth --format mmdet
# The base's data preprocessor already matches BYOL's input: images loaded
# BGR, turned RGB (bgr_to_rgb=True), PyTorch-style ImageNet mean/std.
_base_ = 'mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py'

pretrained = 'work_dirs/byol_r50_mmdet.pth'
# Self-supervised transfer: SyncBN in backbone, FPN and heads, BN
# statistics and affine parameters trained, no stage frozen (mmdet's
# frozen_stages=0 would still freeze the stem).
norm_cfg = dict(type='SyncBN', requires_grad=True)

model = dict(
    backbone=dict(
        frozen_stages=-1, norm_cfg=norm_cfg, norm_eval=False,
        init_cfg=dict(type='Pretrained', checkpoint=pretrained)),
    neck=dict(norm_cfg=norm_cfg),
    roi_head=dict(
        # with normalisation, four convolutions and one fc in the box head
        bbox_head=dict(type='Shared4Conv1FCBBoxHead', norm_cfg=norm_cfg),
        mask_head=dict(norm_cfg=norm_cfg)))
