"""Write ImageNet-sized JPEGs to time data loading on, where no ImageNet is.

    python benchmarks/make_jpegs.py OUT_DIR [--num 4096] [--tar CIFAR_TAR]

Each file is a CIFAR-10 image of the archive (``--tar``, default
``../shared/data/cifar10/train.tar.gz``; never one of the held-out images
4500-4999 of a class) upscaled bicubically to 500 x 375, the median size of
an ImageNet training image, and saved at JPEG quality 90: natural content,
so decoding costs about what an ImageNet file costs. Where the archive is
absent the sources are smooth noise instead. The files are
``OUT_DIR/00000.jpg`` and on; ``benchmarks/data.py`` and
``benchmarks/gpu.sh`` use them.
"""
import argparse
import multiprocessing
import os
import os.path as osp
import sys
import tarfile
from pathlib import Path

if __package__ in (None, ''):  # `python benchmarks/make_jpegs.py`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
from PIL import Image

from benchmarks.cifar_jpegs import ARCHIVE, is_held_out

SIZE = (500, 375)


def _sources(num: int, tar_path: str) -> list:
    """``num`` small RGB images: CIFAR-10's first ones, else smooth noise."""
    sources = []
    if tar_path and osp.exists(tar_path):
        with tarfile.open(tar_path) as tar:
            for member in tar:
                if member.isfile() and member.name.endswith('.jpg') and \
                        not is_held_out(member.name):
                    with Image.open(tar.extractfile(member)) as img:
                        sources.append(np.asarray(img.convert('RGB')))
                    if len(sources) == num:
                        break
    rng = np.random.default_rng(0)
    while len(sources) < num:
        sources.append(rng.integers(0, 256, (12, 16, 3), dtype=np.uint8))
    return sources


def _write(job) -> str:
    path, small = job
    Image.fromarray(small).resize(SIZE, Image.BICUBIC).save(path, quality=90)
    return path


def make_images(folder: str, num: int, tar_path: str = str(ARCHIVE),
                workers: int = 1) -> list:
    """Write ``num`` JPEGs to ``folder``; return their paths in order."""
    os.makedirs(folder, exist_ok=True)
    jobs = [(osp.join(folder, f'{i:05d}.jpg'), small)
            for i, small in enumerate(_sources(num, tar_path))]
    if workers > 1:
        # fork: the children need not import this script by name
        with multiprocessing.get_context('fork').Pool(workers) as pool:
            return pool.map(_write, jobs, chunksize=64)
    return [_write(job) for job in jobs]


def main(argv=None) -> list:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('out_dir')
    p.add_argument('--num', type=int, default=4096)
    p.add_argument('--tar', default=str(ARCHIVE),
                   help='CIFAR-10 archive of JPEGs (default: %(default)s)')
    p.add_argument('--workers', type=int, default=os.cpu_count() or 1)
    args = p.parse_args(argv)
    paths = make_images(args.out_dir, args.num, args.tar, args.workers)
    print(f'{len(paths)} JPEGs of {SIZE[0]} x {SIZE[1]} in {args.out_dir}')
    return paths


if __name__ == '__main__':
    main()
