"""benchmarks/make_jpegs.py: ImageNet-sized JPEGs from a CIFAR-style
archive."""
from pathlib import Path

import numpy as np
from PIL import Image

from benchmarks import make_jpegs
from benchmarks.tests.conftest import small_archive


def test_archive_images_first_then_noise(tmp_path, capsys):
    colours = [(200, 30, 30), (30, 200, 30), (30, 30, 200)]
    small_archive(tmp_path / 'train.tar.gz', colours)
    paths = make_jpegs.main([str(tmp_path / 'out'), '--num', '5', '--tar',
                             str(tmp_path / 'train.tar.gz'), '--workers',
                             '2'])
    assert [Path(p).name for p in paths] == [f'{i:05d}.jpg' for i in range(5)]
    for path, colour in zip(paths, colours):
        with Image.open(path) as img:
            assert img.size == (500, 375) and img.mode == 'RGB'
            mean = np.asarray(img).reshape(-1, 3).mean(0)
        assert np.abs(mean - colour).max() < 6, (path, mean)
    # past the archive's three images: smooth noise, not one colour
    with Image.open(paths[4]) as img:
        assert np.asarray(img).std() > 20
    assert '5 JPEGs of 500 x 375' in capsys.readouterr().out


def test_held_out_images_are_not_used(tmp_path):
    # image 4500 of a class is held out: the next one takes its place
    small_archive(tmp_path / 'train.tar.gz', [(200, 30, 30), (30, 200, 30)],
                  names=[['4500.jpg'], ['0007.jpg']])
    paths = make_jpegs.make_images(str(tmp_path / 'out'), 1,
                                   str(tmp_path / 'train.tar.gz'))
    with Image.open(paths[0]) as img:
        mean = np.asarray(img).reshape(-1, 3).mean(0)
    assert np.abs(mean - (30, 200, 30)).max() < 6, mean


def test_workers_write_the_same_files(tmp_path):
    one = make_jpegs.make_images(str(tmp_path / 'a'), 4, tar_path='',
                                 workers=1)
    two = make_jpegs.make_images(str(tmp_path / 'b'), 4, tar_path='',
                                 workers=2)
    for a, b in zip(one, two):
        assert Path(a).read_bytes() == Path(b).read_bytes()
