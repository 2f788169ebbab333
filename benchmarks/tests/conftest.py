"""The benchmarks' tests use the package tests' fixtures and helpers."""
import io
import tarfile

from PIL import Image

from tests.conftest import (REPO, cifar_folder, one_thread,  # noqa: F401
                            tiny_byol_cfg)

CIFAR_CONFIG = str(REPO / 'configs' /
                   'byol_resnet18_1xb256-coslr-200e_cifar10.py')
CIFAR_AMP_CONFIG = str(REPO / 'configs' /
                       'byol_resnet18_1xb256-amp-coslr-200e_cifar10.py')
DIGITS_CONFIG = str(REPO / 'configs' /
                    'byol_resnet18-w16_1xb128-coslr-50e_digits.py')
GPU_CONFIG = 'configs/byol_resnet50_8xb32.py'

TINY_MODEL = [
    'model.backbone.stem_channels=8', 'model.backbone.base_channels=8',
    'model.neck.in_channels=64', 'model.neck.hid_channels=32',
    'model.neck.out_channels=16', 'model.head.predictor.in_channels=16',
    'model.head.predictor.hid_channels=32',
    'model.head.predictor.out_channels=16'
]


def tiny_jpeg_args(cifar_folder, batch_size: int = 8) -> list:
    """A tiny model on the real JPEGs of ``cifar_folder``, no workers."""
    return [
        '--images', str(cifar_folder), '--cfg-options',
        f'train_dataloader.batch_size={batch_size}',
        'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False', *TINY_MODEL
    ]


def small_archive(path, colours, names=None) -> None:
    """A tar of 32 px one-colour JPEGs in class folders, as CIFAR-10's:
    class ``i`` (``train/class<i>/``) holds the files ``names[i]`` (by
    default one, ``<i>.jpg``) in colour ``colours[i]``."""
    with tarfile.open(path, 'w:gz') as tar:
        for i, colour in enumerate(colours):
            for name in names[i] if names else [f'{i}.jpg']:
                buf = io.BytesIO()
                Image.new('RGB', (32, 32), colour).save(buf, format='JPEG',
                                                        quality=95)
                info = tarfile.TarInfo(f'train/class{i}/{name}')
                info.size = buf.tell()
                buf.seek(0)
                tar.addfile(info, buf)
