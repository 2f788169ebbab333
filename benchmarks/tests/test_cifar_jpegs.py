"""benchmarks/cifar_jpegs.py: held-out images apart, configs pointed."""
from mmengine.config import Config

from benchmarks.cifar_jpegs import is_held_out, unpack, use_images
from benchmarks.tests.conftest import small_archive

NAMES = ['0000.jpg', '4499.jpg', '4500.jpg', '4999.jpg']


def test_held_out_numbers():
    assert [is_held_out(f'train/cat/{n}') for n in NAMES] == [
        False, False, True, True]
    assert not is_held_out('train/cat/05000.jpg')
    assert not is_held_out('train/cat/notes.txt')


def test_unpacks_once_with_the_held_out_images_apart(tmp_path):
    archive, root = tmp_path / 'train.tar.gz', tmp_path / 'jpegs'
    small_archive(archive, [(200, 30, 30), (30, 200, 30)], [NAMES] * 2)
    assert unpack(archive, root) == root
    files = sorted(str(p.relative_to(root)) for p in root.rglob('*.jpg'))
    assert files == sorted(
        f'{split}/class{c}/{n}' for c in range(2) for n, split in zip(
            NAMES, ['train', 'train', 'held_out', 'held_out']))
    archive.unlink()  # a second call does not read the archive again
    assert unpack(archive, root) == root


def test_use_images_keeps_the_configs_pipeline(tmp_path):
    pipeline = [dict(type='LoadRGBImage'), dict(type='PackInputs')]
    cfg = Config(dict(train_dataloader=dict(batch_size=2, dataset=dict(
        type='mmpretrain.CIFAR10', data_root='data/cifar10', split='train',
        download=True, pipeline=pipeline))))
    use_images(cfg, tmp_path / 'jpegs' / 'train', indices=[0, 2])
    assert cfg.train_dataloader.dataset == dict(
        type='ImageFolderDataset', data_root=str(tmp_path / 'jpegs'),
        data_prefix='train', pipeline=pipeline, indices=[0, 2])
    assert cfg.train_dataloader.batch_size == 2
