import importlib.util
import tarfile
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
CIFAR_TAR = REPO.parent / 'shared' / 'data' / 'cifar10' / 'train.tar.gz'


@pytest.fixture(scope='session', autouse=True)
def one_thread():
    """Test models are tiny: one intra-op thread is as fast on a quiet
    2-core machine and far faster on a busy one (OpenMP threads spin);
    data-loader workers and spawned ranks run one thread each anyway."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def load_script(path: str):
    """Import a script of the repository (``'tools/train.py'``) as a module."""
    spec = importlib.util.spec_from_file_location(
        Path(path).stem, REPO / path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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


@pytest.fixture(scope='session')
def cifar_batches(cifar_folder, tmp_path_factory):
    """The images of :func:`cifar_folder` in CIFAR-10's python format, the
    files MMPretrain's ``CIFAR10`` reads from ``data_root``: five training
    batches and a test batch (real images; 12 of each class for training,
    8 for testing). Their checksums are not CIFAR-10's: use with
    :func:`accept_cifar_checksums`."""
    import pickle

    import numpy as np
    from PIL import Image
    root = tmp_path_factory.mktemp('cifar10_batches')
    folder = root / 'cifar-10-batches-py'
    folder.mkdir()
    classes = sorted(p.name for p in cifar_folder.iterdir())
    splits = {'train': [], 'test': []}
    for label, cls in enumerate(classes):
        for i in range(20):
            with Image.open(cifar_folder / cls / f'{i:04d}.jpg') as img:
                pixels = np.asarray(img.convert('RGB'))
            split = 'train' if i < 12 else 'test'
            splits[split].append((pixels.transpose(2, 0, 1).reshape(-1),
                                  label))

    def write(name, items):
        with open(folder / name, 'wb') as f:
            pickle.dump(dict(data=np.stack([x for x, _ in items]),
                             labels=[y for _, y in items]), f)

    for b in range(5):
        write(f'data_batch_{b + 1}', splits['train'][b::5])
    write('test_batch', splits['test'])
    with open(folder / 'batches.meta', 'wb') as f:
        pickle.dump(dict(label_names=classes), f)
    return root


@pytest.fixture
def accept_cifar_checksums(monkeypatch):
    """MMPretrain's CIFAR10 checks the official files' md5: accept the
    test batches of :func:`cifar_batches`."""
    monkeypatch.setattr('mmpretrain.datasets.cifar.check_md5',
                        lambda *args, **kwargs: True)


def digits_runner_cfg(work_dir, max_iters=4, batch_size=16, **overrides):
    """A Runner config training a tiny BYOL on the bundled digits."""
    view = [dict(type='RandomResizedCrop', scale=16,
                 crop_ratio_range=(0.5, 1.0)),
            dict(type='RandomFlip', prob=0.5)]
    cfg = dict(
        default_scope='mmbyol',
        work_dir=str(work_dir),
        model=tiny_byol_cfg(),
        train_dataloader=dict(
            batch_size=batch_size, num_workers=0,
            sampler=dict(type='DefaultSampler', shuffle=True),
            collate_fn=dict(type='default_collate'),
            dataset=dict(type='DigitsDataset', image_size=16, pipeline=[
                dict(type='MultiView', num_views=2, transforms=[view]),
                dict(type='PackInputs')])),
        optim_wrapper=dict(
            constructor='BYOLOptimWrapperConstructor',
            optimizer=dict(type='SGD', lr=0.05, momentum=0.9)),
        train_cfg=dict(type='IterBasedTrainLoop', max_iters=max_iters),
        custom_hooks=[dict(type='BYOLMomentumHook', base_tau=0.99)],
        default_hooks=dict(logger=dict(type='LoggerHook', interval=1),
                           checkpoint=dict(type='CheckpointHook',
                                           interval=max_iters,
                                           by_epoch=False)),
        randomness=dict(seed=0),
        log_level='WARNING',
    )
    cfg.update(overrides)
    return cfg
