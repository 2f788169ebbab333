"""Every bad config of issue 6 gives a one-line error naming its key."""
import re
from pathlib import Path

import pytest
from mmengine.config import Config

from mmbyol.utils import register_all_modules
from mmbyol.utils.preflight import ConfigError, check_config
from tests.engine.runner._tiny import tiny_cfg, train
from tests.conftest import load_script

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / 'configs' / 'byol_demo_digits.py'


@pytest.fixture(autouse=True)
def _setup():
    register_all_modules(init_default_scope=False)


def _demo(**options) -> Config:
    cfg = Config.fromfile(str(DEMO))
    cfg.merge_from_dict(options)
    return cfg


def _error(cfg) -> str:
    with pytest.raises(ConfigError) as info:
        check_config(cfg)
    message = str(info.value)
    assert '\n' not in message
    return message


def test_good_config_passes():
    check_config(_demo())


@pytest.mark.parametrize('options, expected', [
    ({'model.neck.in_channels': 512},
     r"model.neck.in_channels=512 but model.backbone \(ResNet_CIFAR\) "
     r'outputs 128 channels'),
    ({'model.head.predictor.in_channels': 64},
     'model.head.predictor.in_channels=64 but model.neck.out_channels=128'),
    ({'model.neck.type': 'BYOLNek'},
     r"model.neck.type='BYOLNek' is not a registered model.*did you mean "
     r"'BYOLNeck'"),
    ({'train_dataloader.dataset.pipeline.0.type': 'MultiVeiw'},
     r"train_dataloader.dataset.pipeline\[0\].type='MultiVeiw' is not a "
     'registered transform'),
    ({'optim_wrapper.optimizer.type': 'LAR'},
     r"optim_wrapper.optimizer.type='LAR'.*did you mean 'LARS'"),
    ({'custom_hooks': [dict(type='BYOLMomentumHook', base_tau=0.004)]},
     r'custom_hooks\[0\].base_tau=0.004 is outside \[0.9, 1\]'),
    ({'custom_hooks': [dict(type='BYOLMomentumHook', end_tau=1.5)]},
     r'custom_hooks\[0\].end_tau=1.5 is outside'),
    ({'custom_hooks': []}, 'custom_hooks: 0 BYOLMomentumHook'),
    ({'train_dataloader.dataset': dict(type='CustomDataset',
                                       data_root='/no/such/dir',
                                       data_prefix='train')},
     'train_dataloader.dataset: image folder "/no/such/dir/train" does not '
     'exist'),
])
def test_bad_config_message(options, expected):

    assert re.search(expected, _error(_demo(**options))), expected


def test_batch_larger_than_dataset_stops_before_training(tmp_path):
    cfg = tiny_cfg(tmp_path, samples=24, batch_size=32)
    with pytest.raises(ConfigError,
                       match=r'train_dataloader.batch_size=32 is larger than '
                       r'the 24 samples'):
        train(cfg)
    assert not list(tmp_path.glob('*.pth'))


def test_train_py_prints_one_line(tmp_path, capsys):
    tool = load_script('tools/train.py')
    with pytest.raises(SystemExit) as info:
        tool.main([str(DEMO), '--work-dir', str(tmp_path), '--cfg-options',
                   'model.neck.in_channels=7'])
    assert str(info.value).startswith('error: model.neck.in_channels=7 but')
