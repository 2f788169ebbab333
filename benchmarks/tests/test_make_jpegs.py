"""tools/make_jpegs.py: ImageNet-sized JPEGs from a CIFAR-style archive."""
import importlib.util
import io
import sys
import tarfile
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[2]


def load_tool():
    spec = importlib.util.spec_from_file_location(
        'make_jpegs', REPO / 'tools' / 'make_jpegs.py')
    module = importlib.util.module_from_spec(spec)
    sys.modules['make_jpegs'] = module  # as when a tool imports it
    spec.loader.exec_module(module)
    return module


def small_archive(path: Path, colours) -> None:
    """A tar of 32 px one-colour JPEGs in class folders, as CIFAR-10's."""
    with tarfile.open(path, 'w:gz') as tar:
        for i, colour in enumerate(colours):
            buf = io.BytesIO()
            Image.new('RGB', (32, 32), colour).save(buf, format='JPEG',
                                                    quality=95)
            info = tarfile.TarInfo(f'train/class{i}/{i}.jpg')
            info.size = buf.tell()
            buf.seek(0)
            tar.addfile(info, buf)


def test_archive_images_first_then_noise(tmp_path, capsys):
    colours = [(200, 30, 30), (30, 200, 30), (30, 30, 200)]
    small_archive(tmp_path / 'train.tar.gz', colours)
    paths = load_tool().main([str(tmp_path / 'out'), '--num', '5', '--tar',
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


def test_workers_write_the_same_files(tmp_path):
    tool = load_tool()
    one = tool.make_images(str(tmp_path / 'a'), 4, tar_path='', workers=1)
    two = tool.make_images(str(tmp_path / 'b'), 4, tar_path='', workers=2)
    for a, b in zip(one, two):
        assert Path(a).read_bytes() == Path(b).read_bytes()
