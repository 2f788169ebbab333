"""The Mask R-CNN configs: deltas on MMDetection's own recipes, every
backbone (and C4 shared-head) tensor from the BYOL export, BYOL's RGB
normalisation."""
from tests.detection.stack import require_detection_stack

require_detection_stack()

import copy  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
from mmcv.transforms import LoadImageFromFile  # noqa: E402
from mmdet.datasets.transforms import PackDetInputs  # noqa: E402
from mmdet.registry import MODELS as DET_MODELS  # noqa: E402
from mmdet.utils import register_all_modules  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.registry import DefaultScope  # noqa: E402
from mmengine.hub import get_config  # noqa: E402
from mmengine.runner import load_checkpoint  # noqa: E402
from mmpretrain.models import ResNet  # noqa: E402
from mmpretrain.models.backbones import resnet  # noqa: E402
from PIL import Image  # noqa: E402

from mmbyol.datasets.transforms import LoadRGBImage  # noqa: E402
from mmbyol.utils.export import export_backbone  # noqa: E402

CONFIGS = Path(__file__).resolve().parents[2] / 'configs'
FPN = CONFIGS / 'benchmarks' / 'mask-rcnn_r50-fpn_8xb2-1x_coco.py'
C4 = CONFIGS / 'benchmarks' / 'mask-rcnn_r50-c4_8xb2-1x_coco.py'
BASES = {FPN: 'mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py',
         C4: 'mmdet::mask_rcnn/mask-rcnn_r50-caffe-c4_1x_coco.py'}
BYOL = CONFIGS / 'byol_resnet50_8xb32-coslr-300e_in1k.py'
SYNCBN = dict(type='SyncBN', requires_grad=True)


def load(path):
    return Config.fromfile(str(path))


@pytest.fixture(scope='module')
def r50_export(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('r50')
    torch.manual_seed(0)
    online = ResNet(50)
    with torch.no_grad():
        online(torch.randn(2, 3, 32, 32))  # move BN statistics
    state = {f'backbone.{k}': v for k, v in online.state_dict().items()}
    state.update({f'target_backbone.{k}': torch.zeros_like(v)
                  for k, v in online.state_dict().items()})
    torch.save(dict(state_dict=state), tmp / 'byol.pth')
    export_backbone(str(tmp / 'byol.pth'), str(tmp / 'r50.pth'), 'mmdet')
    return online.state_dict(), str(tmp / 'r50.pth')


def as_mmpretrain(cfg: dict, checkpoint: str) -> dict:
    """mmdet's ResNet section as MMPretrain's ResNet, BN for SyncBN (CPU)."""
    cfg = copy.deepcopy(cfg)
    assert cfg.pop('type') in ('ResNet', 'ResLayer')
    assert cfg['norm_cfg'] == SYNCBN
    cfg['norm_cfg'] = dict(type='BN', requires_grad=True)
    cfg['init_cfg']['checkpoint'] = checkpoint
    return cfg


def check_trainable(module):
    module.train()
    assert all(p.requires_grad for p in module.parameters())
    assert all(m.training for m in module.modules()
               if isinstance(m, nn.BatchNorm2d))


def unscoped(node):
    """A config tree without the ``_scope_`` that cross-package inheritance
    stamps on it."""
    if isinstance(node, dict):
        return {k: unscoped(v) for k, v in node.items() if k != '_scope_'}
    if isinstance(node, (list, tuple)):
        return [unscoped(v) for v in node]
    return node


def norm_cfgs(node, path='model'):
    """Every ``norm_cfg`` in a config tree, with where it is."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == 'norm_cfg':
                yield f'{path}.{key}', value
            else:
                yield from norm_cfgs(value, f'{path}.{key}')


def test_mmdet_fpn_backbone_loads_export(r50_export):
    online, exported = r50_export
    cfg = load(FPN)
    assert cfg.default_scope == 'mmdet' and cfg.train_cfg.max_epochs == 12
    assert cfg.model.neck.norm_cfg.type == 'SyncBN'
    backbone = ResNet(**as_mmpretrain(cfg.model.backbone, exported))
    load_checkpoint(backbone, exported, strict=True)
    backbone.init_weights()  # the config's own init_cfg path
    for name, value in online.items():
        torch.testing.assert_close(backbone.state_dict()[name], value)
    check_trainable(backbone)


def test_mmdet_c4_backbone_and_shared_head_load_export(r50_export):
    online, exported = r50_export
    cfg = load(C4)
    bb_cfg = as_mmpretrain(cfg.model.backbone, exported)
    backbone = ResNet(**bb_cfg)
    incompatible = backbone.load_state_dict(
        torch.load(exported, weights_only=True)['state_dict'], strict=False)
    assert not incompatible.missing_keys
    assert {k.split('.')[0] for k in incompatible.unexpected_keys} == \
        {'layer4'}
    head_cfg = cfg.model.roi_head.shared_head
    assert head_cfg.init_cfg.checkpoint == \
        cfg.model.backbone.init_cfg.checkpoint
    # mmdet's shared head holds the stage as attribute `layer4`
    head = nn.Module()
    head.layer4 = resnet.ResLayer(
        resnet.Bottleneck, 3, 1024, 2048, stride=head_cfg.stride,
        style=head_cfg.style, norm_cfg=dict(type='BN'))
    rest = head.load_state_dict(
        torch.load(exported, weights_only=True)['state_dict'], strict=False)
    assert not rest.missing_keys
    assert set(rest.unexpected_keys) == set(online) - set(
        incompatible.unexpected_keys)  # together: every key, exactly once
    for name, value in head.state_dict().items():
        torch.testing.assert_close(value, online[name])
    check_trainable(backbone)


@pytest.mark.parametrize('path', [FPN, C4], ids=['fpn', 'c4'])
def test_configs_are_deltas_on_mmdet_recipes(path):
    assert f"_base_ = '{BASES[path]}'" in path.read_text()
    cfg, base = load(path), get_config(BASES[path])
    # the recipe as MMDetection ships it: data, schedule, runtime, heads
    for key in ('train_dataloader', 'test_dataloader', 'val_evaluator',
                'param_scheduler', 'optim_wrapper', 'train_cfg',
                'default_hooks'):
        assert unscoped(cfg[key]) == unscoped(base[key]), key
    for key in ('rpn_head', 'train_cfg', 'test_cfg'):
        assert unscoped(cfg.model[key]) == unscoped(base.model[key]), key
    assert cfg.model._scope_ == 'mmdet'  # MMDetection's classes are built
    # the deltas: BYOL's weights, SyncBN everywhere, nothing frozen
    found = dict(norm_cfgs(cfg.model))
    assert found and all(v == SYNCBN for v in found.values()), found
    bb = cfg.model.backbone
    assert bb.frozen_stages == -1 and not bb.norm_eval
    assert bb.style == 'pytorch'
    assert bb.init_cfg == dict(type='Pretrained', checkpoint=cfg.pretrained)
    if path == C4:
        head = cfg.model.roi_head.shared_head
        assert head.style == 'pytorch' and not head.norm_eval
        assert head.init_cfg == bb.init_cfg
    else:
        assert cfg.model.roi_head.bbox_head.type == 'Shared4Conv1FCBBoxHead'


@pytest.mark.parametrize('path', [FPN, C4], ids=['fpn', 'c4'])
def test_detector_starts_from_export(path, r50_export):
    """The real MMDetection model, initialised by its config's init_cfg,
    holds every exported tensor."""
    online, exported = r50_export
    register_all_modules(init_default_scope=False)
    cfg = load(path)
    cfg.model.backbone.init_cfg.checkpoint = exported
    if path == C4:
        cfg.model.roi_head.shared_head.init_cfg.checkpoint = exported
    with DefaultScope.overwrite_default_scope('mmdet'):
        detector = DET_MODELS.build(cfg.model)
    detector.init_weights()
    held = dict(detector.backbone.state_dict())
    if path == C4:
        held.update(detector.roi_head.shared_head.state_dict())
    assert set(held) == set(online)
    for name, value in online.items():
        torch.testing.assert_close(held[name], value, rtol=0, atol=0)
    check_trainable(detector.backbone)


@pytest.mark.parametrize('path', [FPN, C4], ids=['fpn', 'c4'])
def test_detector_input_is_byol_input(path, tmp_path):
    """One image file through MMDetection's loading and data preprocessor
    gives the tensor BYOL's loading (RGB) and normalisation give."""
    register_all_modules(init_default_scope=False)
    rgb = np.empty((64, 64, 3), np.uint8)
    rgb[...] = (200, 100, 30)
    Image.fromarray(rgb).save(tmp_path / 'red.png')
    byol = load(BYOL).data_preprocessor
    assert not byol.to_rgb
    byol_in = LoadRGBImage()(dict(img_path=str(tmp_path / 'red.png')))['img']
    expected = (torch.from_numpy(byol_in).permute(2, 0, 1).float() -
                torch.tensor(byol.mean)[:, None, None]) / \
        torch.tensor(byol.std)[:, None, None]

    packed = PackDetInputs()(
        LoadImageFromFile()(dict(img_path=str(tmp_path / 'red.png'))))
    with DefaultScope.overwrite_default_scope('mmdet'):
        preprocessor = DET_MODELS.build(load(path).model.data_preprocessor)
    got = preprocessor(dict(inputs=[packed['inputs']],
                            data_samples=[packed['data_samples']]))['inputs']
    torch.testing.assert_close(got[0], expected)
    assert got[0, 0, 0, 0] > 0 > got[0, 2, 0, 0]  # red stays channel 0
