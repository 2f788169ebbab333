"""The CIFAR-10 JPEGs the benchmarks measure on.

``../shared/data/cifar10/train.tar.gz`` holds ``train/<class>/NNNN.jpg``,
5,000 images per class. Images 4500-4999 of each class are held out for
evaluation and never trained on: :func:`unpack` writes the archive once to
``data/cifar10-jpegs`` with images 0-4499 of each class under ``train/``
(45,000) and the held-out ones under ``held_out/`` (5,000), so that a data
set pointed at ``train/`` cannot reach them. :func:`use_images` points a
config's training set at such a folder.
"""
import os
import re
import shutil
import tarfile
from pathlib import Path, PurePosixPath
from typing import Union

REPO = Path(__file__).resolve().parents[1]
ARCHIVE = REPO.parent / 'shared' / 'data' / 'cifar10' / 'train.tar.gz'
ROOT = REPO / 'data' / 'cifar10-jpegs'
HELD_OUT = range(4500, 5000)


def is_held_out(path: Union[str, Path]) -> bool:
    """Whether the image file ``path`` (``.../NNNN.jpg``) is one of the
    held-out images 4500-4999 of its class."""
    match = re.fullmatch(r'(\d+)\.jpe?g', PurePosixPath(path).name.lower())
    return match is not None and int(match.group(1)) in HELD_OUT


def unpack(archive: Union[str, Path] = ARCHIVE,
           root: Union[str, Path] = ROOT) -> Path:
    """``root`` with ``train/<class>/`` and ``held_out/<class>/``, unpacked
    from ``archive`` the first time (later calls only return ``root``)."""
    root, archive = Path(root), Path(archive)
    if root.is_dir():
        return root
    if not archive.is_file():
        raise FileNotFoundError(f'{archive} not found: the CIFAR-10 JPEG '
                                'archive (see ../shared/data/cifar10)')
    partial = root.with_name(root.name + f'.partial-{os.getpid()}')
    shutil.rmtree(partial, ignore_errors=True)
    with tarfile.open(archive) as tar:
        for member in tar:
            parts = PurePosixPath(member.name).parts
            if not member.isfile() or len(parts) < 2:
                continue
            split = 'held_out' if is_held_out(member.name) else 'train'
            member.name = str(PurePosixPath(split, *parts[-2:]))
            tar.extract(member, partial, filter='data')
    try:
        partial.rename(root)
    except OSError:  # another process unpacked it meanwhile
        shutil.rmtree(partial, ignore_errors=True)
    return root


def use_images(cfg, folder: Union[str, Path], **dataset) -> None:
    """Train ``cfg`` on every image under ``folder``: its
    ``train_dataloader.dataset`` becomes an ``ImageFolderDataset`` of
    ``folder`` with the config's own pipeline (and ``dataset``'s further
    arguments, e.g. ``indices``)."""
    folder = Path(folder)
    pipeline = cfg.train_dataloader.dataset.pipeline
    cfg.train_dataloader.dataset = dict(
        type='ImageFolderDataset', data_root=str(folder.parent),
        data_prefix=folder.name, pipeline=pipeline, **dataset)
