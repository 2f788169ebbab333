"""A few real iterations of the CIFAR-10 recipe through tools/train.py: on
MMPretrain's CIFAR10 data set, as shipped, and on a folder of images."""
import copy
import math
from pathlib import Path

import torch
from mmengine.hooks import Hook
from tests.conftest import load_script

REPO = Path(__file__).resolve().parents[2]


def load_train_tool():
    return load_script('tools/train.py')


class Snapshot(Hook):
    """Keeps the weights as they were when training started."""

    def before_train(self, runner):
        self.online = copy.deepcopy(runner.model.backbone.state_dict())
        self.target = copy.deepcopy(runner.model.target_backbone.state_dict())


def distance(a, b):
    return sum((a[k].float() - b[k].float()).norm()
               for k in a if k.endswith('weight'))


CIFAR_CONFIG = REPO / 'configs' / 'byol_resnet18_1xb256-coslr-200e_cifar10.py'


def test_cifar10_config_trains_on_cifar10_batches(
        cifar_batches, accept_cifar_checksums, tmp_path):
    """The recipe as shipped: MMPretrain's CIFAR10 (RGB arrays) through
    LoadRGBImage and BYOL's views."""
    runner = load_train_tool().main([
        str(CIFAR_CONFIG), '--work-dir', str(tmp_path), '--max-iters', '2',
        '--cfg-options', f'train_dataloader.dataset.data_root={cifar_batches}',
        'train_dataloader.batch_size=16', 'train_dataloader.num_workers=0'])
    assert len(runner.train_dataloader.dataset) == 120
    loss = runner.message_hub.get_scalar('train/loss').current()
    assert math.isfinite(loss) and 0 <= loss <= 8
    assert (tmp_path / 'iter_2.pth').exists()


def test_cifar10_config_trains_on_an_image_folder(cifar_folder, tmp_path,
                                                  monkeypatch):
    train = load_train_tool()
    snapshot = Snapshot()
    original = train.build_runner

    def build_and_watch(cfg):
        runner = original(cfg)
        runner.register_hook(snapshot, priority='VERY_LOW')
        return runner

    monkeypatch.setattr(train, 'build_runner', build_and_watch)
    # a folder of images, as README's "your own images" shows
    child = tmp_path / 'folder.py'
    child.write_text(
        f"_base_ = ['{CIFAR_CONFIG}']\n"
        "train_dataloader = dict(dataset=dict(\n"
        "    type='ImageFolderDataset', data_root='"
        f"{cifar_folder.parent}', data_prefix='{cifar_folder.name}',\n"
        "    pipeline={{_base_.train_pipeline}}, _delete_=True))\n")
    runner = train.main([
        str(child), '--work-dir', str(tmp_path), '--cfg-options',
        'train_dataloader.dataset.indices=48',
        'train_dataloader.batch_size=16', 'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'train_cfg.max_epochs=1', 'default_hooks.logger.interval=1'
    ])
    model = runner.model
    assert runner.iter == 3  # 48 of the images / 16
    loss = runner.message_hub.get_scalar('train/loss').current()
    assert math.isfinite(loss) and 0 <= loss <= 8
    for p in model.state_dict().values():
        assert torch.isfinite(p.float()).all()
    # online moved by SGD steps, target by the EMA: less, but not zero
    online_moved = distance(model.backbone.state_dict(), snapshot.online)
    target_moved = distance(model.target_backbone.state_dict(),
                            snapshot.target)
    assert 0 < target_moved < online_moved
    assert (tmp_path / 'epoch_1.pth').exists()
    assert runner.message_hub.get_scalar('train/tau').current() > 0.996
