"""The shipped configs: MMPretrain's names, the paper's numbers, and BYOL's
hooks kept by every pretraining config and by none downstream."""
import re
from pathlib import Path

import pytest
from mmengine.config import Config
from mmengine.registry import DefaultScope

from mmbyol.registry import MODELS

CONFIGS = Path(__file__).resolve().parents[2] / 'configs'
BYOL_CONFIGS = sorted(
    p for p in CONFIGS.glob('*.py') if Config.fromfile(p).model.type == 'BYOL')
DOWNSTREAM = sorted((CONFIGS / 'benchmarks').glob('*.py'))
# {algo}_{backbone}_{gpus}xb{batch}-{schedule...}-{epochs}e_{data}.py
# (MMDetection states its schedules as 1x, 2x: 12, 24 epochs)
NAME = re.compile(r'^[a-z0-9-]+_[a-z0-9-]+_\d+xb\d+(-[a-z0-9]+)*-\d+[ex]_'
                  r'[a-z0-9-]+\.py$')


def test_the_recipes_exist():
    names = {p.name for p in BYOL_CONFIGS}
    assert {'byol_resnet50_8xb32-coslr-300e_in1k.py',
            'byol_resnet18_1xb256-coslr-200e_cifar10.py',
            'byol_resnet18-w16_1xb128-coslr-50e_digits.py'} <= names
    assert len(DOWNSTREAM) >= 8


@pytest.mark.parametrize('path', sorted(CONFIGS.glob('*.py')) + DOWNSTREAM,
                         ids=lambda p: p.name)
def test_names_follow_mmpretrain(path):
    if path.name == 'byol_resnet50_8xb32.py':  # the recipe's short name
        return
    assert NAME.match(path.name), path.name


def test_the_short_name_is_the_paper_recipe():
    short = Config.fromfile(CONFIGS / 'byol_resnet50_8xb32.py')
    full = Config.fromfile(CONFIGS / 'byol_resnet50_8xb32-coslr-300e_in1k.py')
    assert short.to_dict() == full.to_dict()


@pytest.mark.parametrize('path', BYOL_CONFIGS, ids=lambda p: p.name)
def test_every_byol_config_keeps_bYOLs_hooks(path):
    cfg = Config.fromfile(path)
    assert cfg.default_scope == 'mmbyol'
    assert cfg.runner_type == 'mmbyol.ReliableRunner'
    hooks = cfg.default_hooks
    assert hooks.byol_momentum.type == 'BYOLMomentumHook', path.name
    assert hooks.byol_health.type == 'BYOLHealthHook', path.name
    assert not any(h.type == 'BYOLMomentumHook'
                   for h in cfg.get('custom_hooks', []))


def test_a_child_that_adds_hooks_keeps_the_ema(tmp_path):
    """custom_hooks of a child (here ChannelsLastHook) and a changed tau
    leave BYOL's keyed hooks in place."""
    child = tmp_path / 'child.py'
    child.write_text(
        f"_base_ = ['{CONFIGS / 'byol_resnet18_1xb256-coslr-200e_cifar10.py'}']"
        "\ncustom_hooks = [dict(type='ChannelsLastHook')]\n"
        "default_hooks = dict(byol_momentum=dict(base_tau=0.99))\n")
    cfg = Config.fromfile(child)
    assert cfg.default_hooks.byol_momentum == dict(
        type='BYOLMomentumHook', base_tau=0.99, end_tau=1.0)
    assert cfg.default_hooks.byol_health.type == 'BYOLHealthHook'
    assert [h.type for h in cfg.custom_hooks] == ['ChannelsLastHook']


@pytest.mark.parametrize('path', DOWNSTREAM, ids=lambda p: p.name)
def test_no_downstream_config_has_bYOLs_hooks(path):
    if 'mask-rcnn' in path.name:  # MMDetection's configs: tests/detection
        return
    cfg = Config.fromfile(path)
    assert 'byol_momentum' not in cfg.default_hooks
    assert 'custom_hooks' not in cfg


@pytest.mark.parametrize('path', BYOL_CONFIGS, ids=lambda p: p.name)
def test_every_byol_config_builds_its_model(path):
    cfg = Config.fromfile(path)
    model_cfg = cfg.model.copy()
    model_cfg.setdefault('data_preprocessor', cfg.get('data_preprocessor'))
    with DefaultScope.overwrite_default_scope('mmbyol'):
        model = MODELS.build(model_cfg)
    assert type(model).__module__.startswith('mmbyol')
    assert model.neck.in_channels == cfg.model.neck.in_channels


def test_paper_recipe_numbers():
    cfg = Config.fromfile(CONFIGS / 'byol_resnet50_8xb32-coslr-300e_in1k.py')
    assert cfg.model.backbone.depth == 50
    assert cfg.model.neck.hid_channels == 4096
    assert cfg.model.neck.out_channels == 256
    assert cfg.train_dataloader.batch_size * 8 == 256
    assert cfg.optim_wrapper.optimizer.lr == pytest.approx(0.2 * 256 / 256)
    assert cfg.optim_wrapper.paramwise_cfg.exclude_bias_and_norm
    assert cfg.param_scheduler[0].end == 10
    assert cfg.train_cfg.max_epochs == 300
    assert cfg.sync_bn == 'torch'
    assert cfg.default_hooks.byol_momentum.base_tau == 0.996


def test_cifar_recipe_trains_200_epochs_with_its_own_bases():
    cfg = Config.fromfile(
        CONFIGS / 'byol_resnet18_1xb256-coslr-200e_cifar10.py')
    assert cfg.model.backbone.type == 'ResNet_CIFAR'
    assert cfg.model.neck.in_channels == 512
    assert cfg.train_cfg.max_epochs == 200
    assert cfg.param_scheduler[1].end == 200
    assert cfg.train_dataloader.dataset.type == 'mmpretrain.CIFAR10'
