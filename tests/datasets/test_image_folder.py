"""Image folders at any depth, file lists, and one-line errors."""
import pytest
from PIL import Image

from mmbyol.datasets import FileListDataset, ImageFolderDataset
from mmbyol.utils.errors import ConfigError


def infos(ds):
    return [ds.get_data_info(i) for i in range(len(ds))]


def _touch_image(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new('RGB', (4, 4), (1, 2, 3)).save(path)


def test_flat_and_nested_folders(tmp_path):
    for rel in ('x.jpg', 'a/y.PNG', 'a/b/c/z.jpeg', 'b/w.bmp'):
        _touch_image(tmp_path / 'train' / rel)
    (tmp_path / 'train' / 'readme.txt').write_text('skip me')
    ds = ImageFolderDataset(data_root=str(tmp_path), data_prefix='train')
    names = [d['img_path'].split('train/')[1] for d in infos(ds)]
    assert names == ['x.jpg', 'a/y.PNG', 'a/b/c/z.jpeg', 'b/w.bmp']
    # labelled: an image directly in the root has no class
    with pytest.raises(ConfigError, match=r'1 images lie directly in .*'
                       r'\(e.g. x.jpg\)'):
        ImageFolderDataset(data_root=str(tmp_path),
                           data_prefix=dict(img_path='train'),
                           with_label=True)
    (tmp_path / 'train' / 'x.jpg').unlink()
    labelled = ImageFolderDataset(data_root=str(tmp_path),
                                  data_prefix=dict(img_path='train'),
                                  with_label=True)
    # the folder that holds an image is its class: nested folders stay apart
    assert labelled.metainfo['classes'] == ('a', 'a/b/c', 'b')
    names = [d['img_path'].split('train/')[1] for d in infos(labelled)]
    assert names == ['a/y.PNG', 'a/b/c/z.jpeg', 'b/w.bmp']
    assert [d['gt_label'] for d in infos(labelled)] == [0, 1, 2]


def test_cifar10_folder_tree(cifar_folder):
    ds = ImageFolderDataset(data_root=str(cifar_folder.parent),
                            data_prefix=cifar_folder.name, with_label=True,
                            pipeline=[dict(type='LoadRGBImage')])
    assert len(ds) == 200 and len(ds.metainfo['classes']) == 10
    assert ds[0]['img'].shape == (32, 32, 3)


@pytest.mark.parametrize('make', ['missing', 'empty'])
def test_missing_or_empty_root_is_a_one_line_error(tmp_path, make):
    root = tmp_path / 'data'
    if make == 'empty':
        (root / 'train' / 'cls').mkdir(parents=True)
    with pytest.raises(FileNotFoundError) as info:
        ImageFolderDataset(data_root=str(root), data_prefix='train')
    message = str(info.value)
    assert '\n' not in message and str(root / 'train') in message


def test_file_list(tmp_path):
    _touch_image(tmp_path / 'imgs' / 'a.jpg')
    _touch_image(tmp_path / 'imgs' / 'with space.jpg')
    _touch_image(tmp_path / 'elsewhere.png')
    (tmp_path / 'list.txt').write_text(
        '# path [label]\n\na.jpg 3\nwith space.jpg\n'
        f'{tmp_path / "elsewhere.png"} 1\n')
    ds = FileListDataset(data_root=str(tmp_path), data_prefix='imgs',
                         ann_file='list.txt',
                         pipeline=[dict(type='LoadRGBImage')])
    assert [d.get('gt_label') for d in infos(ds)] == [3, None, 1]
    assert infos(ds)[1]['img_path'].endswith('imgs/with space.jpg')
    assert infos(ds)[2]['img_path'] == str(tmp_path / 'elsewhere.png')
    assert ds[1]['img'].shape == (4, 4, 3)
    with pytest.raises(FileNotFoundError, match='nope.txt'):
        FileListDataset(data_root=str(tmp_path), ann_file='nope.txt')
