"""The evaluation configs parse, state the protocols, and load exports."""
import copy
from pathlib import Path

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.runner import load_checkpoint
from mmpretrain.models import ResNet
from mmpretrain.models.backbones.resnet import Bottleneck, ResLayer

from mmbyol.registry import MODELS
from mmbyol.utils import register_all_modules
from mmbyol.utils.export import export_backbone
from tests.conftest import tiny_byol_cfg

CONFIGS = Path(__file__).resolve().parents[2] / 'configs'
LINEAR = sorted((CONFIGS / 'linear_eval').glob('*.py'))
SEMI = sorted((CONFIGS / 'semi_supervised').glob('*.py'))
MMDET = sorted((CONFIGS / 'mmdet').glob('*.py'))


def load(path):
    return Config.fromfile(str(path))


def test_there_are_configs():
    assert len(LINEAR) == 2 and len(SEMI) == 4 and len(MMDET) == 2


@pytest.mark.parametrize('path', LINEAR + SEMI, ids=lambda p: p.name)
def test_classification_protocols(path):
    cfg = load(path)
    assert cfg.default_scope == 'mmbyol'
    hooks = [h['type'] for h in cfg.get('custom_hooks', [])]
    assert 'BYOLMomentumHook' not in hooks  # no target network here
    assert cfg.model.type == 'ImageClassifier'
    assert cfg.model.head.type == 'LinearClsHead'
    opt = cfg.optim_wrapper.optimizer
    assert opt.type == 'SGD' and opt.nesterov and opt.momentum == 0.9
    assert opt.weight_decay == 0
    sched, = cfg.param_scheduler
    assert sched.type == 'CosineAnnealingLR'
    assert sched.end == sched.T_max == cfg.train_cfg.max_epochs
    backbone = cfg.model.backbone
    assert backbone.init_cfg.type == 'Pretrained'
    if path in LINEAR:  # frozen encoder in eval mode, paper's lr and epochs
        assert backbone.frozen_stages == 4 and backbone.norm_eval
        assert cfg.train_cfg.max_epochs == 80
        assert opt.lr == pytest.approx(
            0.2 * cfg.train_dataloader.batch_size / 256 *
            (8 if 'in1k' in path.name else 1))
    else:  # fine-tuning: everything trains, on a label subset
        assert backbone.frozen_stages == -1 and not backbone.norm_eval
        ann = cfg.train_dataloader.dataset.ann_file
        pct = '1pct' if path.name.endswith('-1pct.py') else '10pct'
        assert f'train_{pct}' in ann
    if 'cifar10' in path.name:
        assert cfg.val_dataloader.dataset.ann_file == 'meta/val.txt'


@pytest.fixture(scope='module')
def cifar_export(tmp_path_factory):
    register_all_modules()
    tmp = tmp_path_factory.mktemp('export')
    byol = MODELS.build(tiny_byol_cfg(
        backbone=dict(type='ResNet_CIFAR', depth=18),
        neck=dict(type='BYOLNeck', in_channels=512, hid_channels=16,
                  out_channels=8)))
    with torch.no_grad():
        byol.backbone(torch.randn(4, 3, 16, 16))  # move BN statistics
    torch.save(dict(state_dict=byol.state_dict()), tmp / 'byol.pth')
    export_backbone(str(tmp / 'byol.pth'), str(tmp / 'bb.pth'), 'mmpretrain')
    return byol, str(tmp / 'bb.pth')


def test_cifar_linear_config_builds_frozen_classifier(cifar_export):
    byol, exported = cifar_export
    cfg = load(CONFIGS / 'linear_eval' / 'byol-linear_resnet18-cifar_'
               '1xb256-nesterov-coslr-80e_cifar10.py')
    cfg.model.backbone.init_cfg.checkpoint = exported
    model = MODELS.build(cfg.model)
    model.init_weights()
    for name, value in byol.backbone.state_dict().items():
        torch.testing.assert_close(model.backbone.state_dict()[name], value)
    model.train()
    assert not any(p.requires_grad for p in model.backbone.parameters())
    assert all(p.requires_grad for p in model.head.parameters())
    assert not any(m.training for m in model.backbone.modules()
                   if isinstance(m, nn.BatchNorm2d))


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
    assert cfg['norm_cfg'] == dict(type='SyncBN', requires_grad=True)
    cfg['norm_cfg'] = dict(type='BN', requires_grad=True)
    cfg['init_cfg']['checkpoint'] = checkpoint
    return cfg


def check_trainable(module):
    module.train()
    assert all(p.requires_grad for p in module.parameters())
    assert all(m.training for m in module.modules()
               if isinstance(m, nn.BatchNorm2d))


def test_mmdet_fpn_backbone_loads_export(r50_export):
    online, exported = r50_export
    cfg = load(CONFIGS / 'mmdet' / 'mask-rcnn_r50-byol_fpn_syncbn_1x_coco.py')
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
    cfg = load(CONFIGS / 'mmdet' / 'mask-rcnn_r50-byol_c4_syncbn_1x_coco.py')
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
    head.layer4 = ResLayer(Bottleneck, 3, 1024, 2048, stride=head_cfg.stride,
                           style=head_cfg.style, norm_cfg=dict(type='BN'))
    rest = head.load_state_dict(
        torch.load(exported, weights_only=True)['state_dict'], strict=False)
    assert not rest.missing_keys
    assert set(rest.unexpected_keys) == set(online) - set(
        incompatible.unexpected_keys)  # together: every key, exactly once
    for name, value in head.state_dict().items():
        torch.testing.assert_close(value, online[name])
    check_trainable(backbone)
