"""The evaluation configs parse, state the protocols, and load exports."""
from pathlib import Path

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config

from mmbyol.registry import MODELS
from mmbyol import register_all_modules
from mmbyol.utils.export import export_backbone
from tests.conftest import tiny_byol_cfg

CONFIGS = Path(__file__).resolve().parents[2] / 'configs'
LINEAR = sorted((CONFIGS / 'benchmarks').glob('linear_*.py'))
SEMI = sorted((CONFIGS / 'benchmarks').glob('semi_*.py'))


def load(path):
    return Config.fromfile(str(path))


def test_there_are_configs():
    assert len(LINEAR) == 2 and len(SEMI) == 4


@pytest.mark.parametrize('path', LINEAR + SEMI, ids=lambda p: p.name)
def test_classification_protocols(path):
    cfg = load(path)
    assert cfg.default_scope == 'mmbyol'
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
        pct = '1pct' if path.name.endswith('-1pct.py') else '10pct'
        dataset = cfg.train_dataloader.dataset
        if 'in1k' in path.name:  # SimCLR's lists, as the paper
            assert f'train_{pct}' in dataset.ann_file
        else:
            assert dataset.type == 'ClassBalancedSubset'
            assert dataset.fraction == {'1pct': 0.01, '10pct': 0.1}[pct]
    if 'cifar10' in path.name:  # held out: CIFAR-10's test images
        assert cfg.val_dataloader.dataset.split == 'test'


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
    cfg = load(CONFIGS / 'benchmarks' /
               'linear_resnet18_1xb256-coslr-80e_cifar10.py')
    cfg.model.backbone.init_cfg.checkpoint = exported
    cfg.model.head.num_classes = 10
    model = MODELS.build(cfg.model)
    model.init_weights()
    for name, value in byol.backbone.state_dict().items():
        torch.testing.assert_close(model.backbone.state_dict()[name], value)
    model.train()
    assert not any(p.requires_grad for p in model.backbone.parameters())
    assert all(p.requires_grad for p in model.head.parameters())
    assert not any(m.training for m in model.backbone.modules()
                   if isinstance(m, nn.BatchNorm2d))
