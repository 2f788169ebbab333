"""RGB whatever the file; bad files name themselves or are skipped."""
import shutil
import warnings

import numpy as np
import pytest
from PIL import Image

from mmbyol.datasets import BadImageWarning, ImageFolderDataset
from mmbyol.datasets.transforms import BadImageError, LoadRGBImage, read_rgb


def _load(path):
    return LoadRGBImage()(dict(img_path=str(path)))['img']


def test_modes_become_rgb_uint8(tmp_path):
    rgb = np.zeros((6, 5, 3), np.uint8)
    rgb[..., 0], rgb[..., 1], rgb[..., 2] = 200, 100, 50
    cases = {}
    Image.fromarray(rgb).convert('L').save(tmp_path / 'gray.png')
    cases['gray.png'] = round(0.299 * 200 + 0.587 * 100 + 0.114 * 50)
    Image.fromarray(rgb).convert('CMYK').save(tmp_path / 'cmyk.jpg',
                                              quality=100)
    Image.fromarray(rgb).convert('P').save(tmp_path / 'palette.png')
    rgba = np.dstack([rgb, np.full((6, 5), 255, np.uint8)])
    rgba[0, 0, 3] = 0  # one transparent pixel: composited onto white
    Image.fromarray(rgba, 'RGBA').save(tmp_path / 'rgba.png')
    sixteen = np.full((6, 5), 257 * 100, np.uint16)
    Image.fromarray(sixteen).save(tmp_path / 'sixteen.png')
    with Image.open(tmp_path / 'sixteen.png') as im:
        assert im.mode.startswith('I')  # really a 16-bit file
    for name in ('gray.png', 'cmyk.jpg', 'palette.png', 'rgba.png',
                 'sixteen.png'):
        img = _load(tmp_path / name)
        assert img.dtype == np.uint8 and img.shape == (6, 5, 3), name
    assert (_load(tmp_path / 'gray.png') == cases['gray.png']).all()
    assert np.abs(_load(tmp_path / 'cmyk.jpg')[2, 2].astype(int)
                  - rgb[2, 2]).max() <= 3
    assert np.abs(_load(tmp_path / 'palette.png')[3, 3].astype(int)
                  - rgb[3, 3]).max() <= 8
    loaded = _load(tmp_path / 'rgba.png')
    assert (loaded[0, 0] == 255).all() and (loaded[1, 1] == rgb[1, 1]).all()
    # 16-bit is rescaled (100 * 257 -> 100), not clipped to 255
    assert (_load(tmp_path / 'sixteen.png') == 100).all()


def bad_files(folder, good_jpg):
    data = good_jpg.read_bytes()
    (folder / 'truncated.jpg').write_bytes(data[:len(data) // 2])
    (folder / 'corrupt.png').write_bytes(b'\x89PNG\r\n\x1a\n' + bytes(50))
    (folder / 'notes.jpg').write_text('not an image at all')
    return ['truncated.jpg', 'corrupt.png', 'notes.jpg']


def test_bad_files_raise_an_error_naming_the_file(tmp_path, cifar_folder):
    good = next(cifar_folder.rglob('*.jpg'))
    for name in bad_files(tmp_path, good):
        with pytest.raises(BadImageError, match=name):
            read_rgb(str(tmp_path / name))


def test_skip_bad_images_counts_distinct_files(tmp_path, cifar_folder):
    good = next(cifar_folder.rglob('*.jpg'))
    shutil.copy(good, tmp_path / 'a_good.jpg')
    names = bad_files(tmp_path, good)
    strict = ImageFolderDataset(data_root=str(tmp_path),
                                pipeline=[dict(type='LoadRGBImage')])
    assert len(strict) == 4
    with pytest.raises(BadImageError, match='corrupt.png'):
        strict[1]  # sorted: a_good, corrupt, notes, truncated
    lenient = ImageFolderDataset(
        data_root=str(tmp_path), skip_bad_images=True,
        pipeline=[dict(type='LoadRGBImage'),
                  dict(type='PackInputs', meta_keys=('img_path', ))])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        for _ in range(3):  # every bad file is drawn again and again
            for i in range(1, 4):
                out = lenient[i]
                sample = out['data_samples']
                assert sample.img_path.endswith('a_good.jpg')
                # the sample drawn instead names what it replaced
                assert str(tmp_path / names[[1, 2, 0][i - 1]]) in \
                    sample.skipped_images
    bad = [w for w in caught if issubclass(w.category, BadImageWarning)]
    # one warning per distinct file, however often it is drawn
    assert len(bad) == lenient.num_bad_images == 3
    assert sorted(str(w.message).split('"')[1].split('/')[-1]
                  for w in bad) == sorted(names)
    assert 'skipped_images' not in lenient[0]['data_samples']  # a good one


def test_worker_error_names_the_file(tmp_path, cifar_folder):
    from torch.utils.data import DataLoader
    bad_files(tmp_path, next(cifar_folder.rglob('*.jpg')))
    dataset = ImageFolderDataset(data_root=str(tmp_path),
                                 pipeline=[dict(type='LoadRGBImage')])
    loader = DataLoader(dataset, batch_size=1, num_workers=1,
                        collate_fn=lambda b: b)
    with pytest.raises(BadImageError, match='corrupt.png'):
        next(iter(loader))
