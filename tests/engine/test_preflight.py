"""Every bad config value gives one line that names its key, before
training starts; tools/train.py prints mmbyol's errors as one line."""
import re
from pathlib import Path

import pytest
from mmengine.config import Config

from mmbyol import register_all_modules
from mmbyol.engine.preflight import accepted_arguments, check_config
from mmbyol.utils.errors import ConfigError
from tests.conftest import load_script
from tests.engine.runner._tiny import tiny_cfg, train

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / 'configs' / 'byol_resnet18-w16_1xb128-coslr-50e_digits.py'


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
    # a layer spec's own keys are not constructor arguments
    check_config(_demo(**{'model.backbone.norm_cfg': dict(
        type='SyncBN', requires_grad=True)}))


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
    # a typo in an argument: the key, the class and the close name
    ({'model.neck.hid_channel': 10},
     r"model.neck.hid_channel: BYOLNeck has no argument 'hid_channel' "
     r"\(did you mean 'hid_channels'\?\)"),
    ({'default_hooks.byol_momentum.base_ta': 0.99},
     r"default_hooks.byol_momentum.base_ta: BYOLMomentumHook has no "
     r"argument 'base_ta' \(did you mean 'base_tau'\?\)"),
    ({'train_dataloader.dataset.imagesize': 8},
     r"train_dataloader.dataset.imagesize: DigitsDataset has no argument "
     r"'imagesize' \(did you mean 'image_size'\?\)"),
    # tau: MMPretrain's momentum converts, a value with no valid
    # conversion gets no hint
    ({'default_hooks.byol_momentum.base_tau': 0.004},
     r'default_hooks.byol_momentum.base_tau=0.004 is outside \[0.9, 1\].*'
     r'converts to default_hooks.byol_momentum.base_tau=0.996'),
    ({'default_hooks.byol_momentum.base_tau': 1.5},
     r'base_tau=1.5 is outside \[0.9, 1\]: [^-]*$'),
    ({'custom_hooks': [dict(type='BYOLMomentumHook')]},
     r'2 BYOLMomentumHook entries \(default_hooks.byol_momentum, '
     r'custom_hooks\[0\]\)'),
    ({'train_dataloader.batch_size': -4},
     r'train_dataloader.batch_size=-4: must be a positive integer'),
    ({'train_dataloader.num_workers': -1},
     r'train_dataloader.num_workers=-1: must be an integer >= 0'),
    ({'train_cfg.max_epochs': 0},
     r'train_cfg.max_epochs=0: must be a positive integer'),
    ({'train_cfg': dict(type='IterBasedTrainLoop', max_iters=-5)},
     r'train_cfg.max_iters=-5: must be a positive integer'),
    ({'randomness.seed': 'abc'},
     r"randomness.seed='abc': must be an integer or None"),
    ({'train_dataloader.dataset': dict(type='CustomDataset',
                                       data_root='/no/such/dir',
                                       data_prefix='train', _delete_=True)},
     'train_dataloader.dataset: image folder "/no/such/dir/train" does not '
     'exist'),
])
def test_bad_config_message(options, expected):
    assert re.search(expected, _error(_demo(**options))), expected


def test_empty_image_folder(tmp_path):
    (tmp_path / 'train' / 'a').mkdir(parents=True)
    (tmp_path / 'train' / 'a' / 'notes.txt').write_text('not an image')
    cfg = _demo(**{'train_dataloader.dataset': dict(
        type='ImageFolderDataset', data_root=str(tmp_path),
        data_prefix='train', _delete_=True)})
    assert re.search(r'image folder ".*train" holds no image files',
                     _error(cfg))


def test_accepted_arguments_follow_kwargs_up_the_hierarchy():
    from mmbyol.datasets import ImageFolderDataset
    names = accepted_arguments(ImageFolderDataset)
    # its own, its base class's, and MMEngine's BaseDataset's
    assert {'with_label', 'skip_bad_images', 'indices', 'pipeline'} <= names

    class Open:
        def __init__(self, **kwargs):
            pass

    assert accepted_arguments(Open) is None  # unknowable: not checked


def test_batch_larger_than_dataset_stops_before_training(tmp_path):
    cfg = tiny_cfg(tmp_path, samples=24, batch_size=32)
    with pytest.raises(ConfigError,
                       match=r'train_dataloader.batch_size=32 is larger than '
                       r'the 24 samples'):
        train(cfg)
    assert not list(tmp_path.glob('*.pth'))


def _train_py(tmp_path, *args):
    tool = load_script('tools/train.py')
    with pytest.raises(SystemExit) as info:
        tool.main([str(DEMO), '--work-dir', str(tmp_path), *args])
    message = str(info.value)
    assert message.startswith('error: ') and '\n' not in message
    return message


def test_train_py_prints_one_line(tmp_path):
    message = _train_py(tmp_path, '--cfg-options', 'model.neck.in_channels=7')
    assert message.startswith('error: model.neck.in_channels=7 but')


def test_train_py_one_line_for_errors_raised_while_building(tmp_path):
    """A component's own check (here the digits' image size) surfaces as one
    line too, not at the end of a traceback."""
    message = _train_py(tmp_path, '--cfg-options',
                        'train_dataloader.dataset.image_size=0')
    assert 'DigitsDataset: image_size=0 must be a positive integer' in message


def test_train_py_resume_of_a_text_file(tmp_path):
    text = tmp_path / 'notes.pth'
    text.write_text('hello world, not a checkpoint')
    message = _train_py(tmp_path, '--resume', str(text), '--max-iters', '1')
    assert re.search(r'notes.pth is not a PyTorch checkpoint', message)
    assert 'allow-list' not in message


def test_train_py_debug_shows_the_traceback(tmp_path):
    tool = load_script('tools/train.py')
    with pytest.raises(ConfigError, match='in_channels=7'):
        tool.main([str(DEMO), '--work-dir', str(tmp_path), '--debug',
                   '--cfg-options', 'model.neck.in_channels=7'])
