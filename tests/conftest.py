import tarfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CIFAR_TAR = REPO.parent / 'shared' / 'data' / 'cifar10' / 'train.tar.gz'


def tiny_byol_cfg(**overrides) -> dict:
    """A BYOL small enough for unit tests (narrow ResNet_CIFAR-18)."""
    cfg = dict(
        type='BYOL',
        backbone=dict(type='ResNet_CIFAR', depth=18, stem_channels=8,
                      base_channels=8),
        neck=dict(type='BYOLNeck', in_channels=64, hid_channels=32,
                  out_channels=16),
        head=dict(type='LatentPredictHead',
                  predictor=dict(type='BYOLNeck', in_channels=16,
                                 hid_channels=32, out_channels=16)))
    cfg.update(overrides)
    return cfg


@pytest.fixture(scope='session')
def cifar_folder(tmp_path_factory):
    """A few real CIFAR-10 JPEGs per class, as an ImageNet-style folder.

    Only images 0000-0019 of each class are extracted: never the held-out
    images 4500-4999.
    """
    if not CIFAR_TAR.exists():
        pytest.skip(f'{CIFAR_TAR} not found')
    root = tmp_path_factory.mktemp('cifar10')
    wanted = {f'{i:04d}.jpg' for i in range(20)}
    with tarfile.open(CIFAR_TAR) as tar:
        members = [m for m in tar if m.isfile()
                   and Path(m.name).name in wanted]
        tar.extractall(root, members=members, filter='data')
    train = next(root.rglob('*.jpg')).parent.parent
    return train
