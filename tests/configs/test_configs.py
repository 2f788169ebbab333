from pathlib import Path

import pytest
from mmengine.config import Config
from mmengine.registry import DefaultScope

from mmbyol.registry import MODELS

CONFIGS = Path(__file__).resolve().parents[2] / 'configs'
BYOL_CONFIGS = sorted(
    p for p in CONFIGS.glob('*.py') if Config.fromfile(p).model.type == 'BYOL')


def test_the_issue_configs_exist():
    names = {p.name for p in BYOL_CONFIGS}
    assert {'byol_resnet50_8xb32.py', 'byol_resnet18_cifar10.py',
            'byol_demo_digits.py'} <= names


@pytest.mark.parametrize('path', BYOL_CONFIGS, ids=lambda p: p.name)
def test_every_byol_config_keeps_the_momentum_hook(path):
    cfg = Config.fromfile(path)
    assert cfg.default_scope == 'mmbyol'
    hooks = [h.type for h in cfg.get('custom_hooks', [])]
    assert 'BYOLMomentumHook' in hooks, f'{path.name} lost the EMA hook'
    assert 'BYOLHealthHook' in hooks, f'{path.name} lost the health hook'


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
    cfg = Config.fromfile(CONFIGS / 'byol_resnet50_8xb32.py')
    assert cfg.model.backbone.depth == 50
    assert cfg.model.neck.hid_channels == 4096
    assert cfg.model.neck.out_channels == 256
    assert cfg.train_dataloader.batch_size * 8 == 256
    assert cfg.optim_wrapper.optimizer.lr == pytest.approx(0.2 * 256 / 256)
    assert cfg.optim_wrapper.paramwise_cfg.exclude_bias_and_norm
    assert cfg.param_scheduler[0].end == 10
    assert cfg.train_cfg.max_epochs == 300
    assert cfg.sync_bn == 'torch'
    assert cfg.custom_hooks[0].base_tau == 0.996
