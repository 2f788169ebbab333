"""A few real iterations of the CIFAR-10 recipe through tools/train.py."""
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


def test_cifar10_config_trains_on_real_jpegs(cifar_folder, tmp_path,
                                             monkeypatch):
    train = load_train_tool()
    snapshot = Snapshot()
    original = train.build_runner

    def build_and_watch(cfg):
        runner = original(cfg)
        runner.register_hook(snapshot, priority='VERY_LOW')
        return runner

    monkeypatch.setattr(train, 'build_runner', build_and_watch)
    runner = train.main([
        str(REPO / 'configs/byol_resnet18_cifar10.py'), '--work-dir',
        str(tmp_path), '--cfg-options',
        f'train_dataloader.dataset.data_root={cifar_folder.parent}',
        f'train_dataloader.dataset.data_prefix={cifar_folder.name}',
        'train_dataloader.batch_size=50', 'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'train_cfg.max_epochs=1', 'default_hooks.logger.interval=1'
    ])
    model = runner.model
    assert runner.iter == 4  # 200 images / 50
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
