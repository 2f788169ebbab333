"""The linear and semi-supervised configs on a user's own labelled tree:
classes read from nested folders, their number taken from the data, a
mismatch refused in one line; a few real iterations each."""
import shutil
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmpretrain.models import ResNet

from mmbyol import register_all_modules
from tests.conftest import load_script

CONFIGS = Path(__file__).resolve().parents[2] / 'configs' / 'benchmarks'
VEHICLES = ('airplane', 'automobile', 'ship', 'truck')


@pytest.fixture(scope='module')
def own_tree(cifar_folder, tmp_path_factory):
    """Real images in a nested tree: animals/<class>, vehicles/<class>."""
    root = tmp_path_factory.mktemp('own')
    for split, names in (('train', range(0, 14)), ('val', range(14, 20))):
        for cls in sorted(p.name for p in cifar_folder.iterdir()):
            group = 'vehicles' if cls in VEHICLES else 'animals'
            dest = root / split / group / cls
            dest.mkdir(parents=True)
            for i in names:
                shutil.copy(cifar_folder / cls / f'{i:04d}.jpg', dest)
    torch.manual_seed(0)
    torch.save(dict(state_dict=ResNet(50).state_dict()), root / 'r50.pth')
    return root


def _small(cfg: Config, root: Path) -> Config:
    """64 px crops, batch 4, no workers: a few iterations on the CPU."""
    cfg.model.backbone.init_cfg.checkpoint = str(root / 'r50.pth')
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg[key]
        loader.update(batch_size=4, num_workers=0, persistent_workers=False)
        dataset = loader.dataset
        while 'dataset' in dataset:
            dataset = dataset.dataset
        dataset.data_root = str(root)
        for t in dataset.pipeline:
            if t.type == 'RandomResizedCrop':
                t.scale = 64
            elif t.type == 'ResizeEdge':
                t.scale = 72
            elif t.type == 'CenterCrop':
                t.crop_size = 64
    cfg.log_level = 'INFO'
    return cfg


def _train(cfg: Config, work: Path, *args):
    register_all_modules(init_default_scope=False)
    cfg.dump(str(work / 'cfg.py'))
    return load_script('tools/train.py').main(
        [str(work / 'cfg.py'), '--work-dir', str(work), '--max-iters', '2',
         *args])


def test_linear_evaluation_on_a_nested_tree(own_tree, tmp_path):
    cfg = _small(Config.fromfile(
        str(CONFIGS / 'linear_resnet50_8xb32-coslr-80e_in1k.py')), own_tree)
    runner = _train(cfg, tmp_path)
    model = runner.model
    assert model.head.num_classes == 10  # from the data
    classes = runner.train_dataloader.dataset.metainfo['classes']
    assert classes[:2] == ('animals/bird', 'animals/cat')
    assert 'vehicles/truck' in classes
    log = open(runner.logger.log_file).read()
    assert 'accuracy/top1' in log  # validated on the held-out folders


def test_a_class_count_that_does_not_match_is_one_line(own_tree, tmp_path):
    cfg = _small(Config.fromfile(
        str(CONFIGS / 'linear_resnet50_8xb32-coslr-80e_in1k.py')), own_tree)
    cfg.model.head.num_classes = 1000
    with pytest.raises(SystemExit, match=r'error: model.head.num_classes=1000 '
                       r'but the training data has 10 classes \(animals/bird'):
        _train(cfg, tmp_path)


def test_semi_supervised_on_a_nested_tree(own_tree, tmp_path):
    cfg = Config.fromfile(
        str(CONFIGS / 'semi_resnet50_8xb32-coslr-30e_in1k-1pct.py'))
    cfg.train_dataloader.dataset = dict(
        type='ClassBalancedSubset', fraction=0.2, seed=0,
        dataset=dict(type='ImageFolderDataset', data_prefix='train',
                     with_label=True,
                     pipeline=cfg.train_dataloader.dataset.pipeline))
    cfg.model.head.num_classes = None
    cfg.model.data_preprocessor.num_classes = None
    runner = _train(_small(cfg, own_tree), tmp_path)
    assert runner.model.head.num_classes == 10
    assert len(runner.train_dataloader.dataset) == 10 * 3  # 20% of 14
    assert all(p.requires_grad for p in runner.model.backbone.parameters())
