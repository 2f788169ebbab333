"""skip_bad_images=True in a real run: each epoch reports its distinct
unreadable files once, on the main process, and writes the full list."""
import shutil

from mmbyol import register_all_modules
from tests.datasets.test_loading import bad_files
from tests.engine.runner._tiny import tiny_cfg, train


def test_each_epoch_reports_its_distinct_bad_files(tmp_path, cifar_folder):
    register_all_modules(init_default_scope=False)
    images = tmp_path / 'images'
    shutil.copytree(cifar_folder, images / 'train')
    names = bad_files(images / 'train' / 'airplane', next(
        cifar_folder.rglob('*.jpg')))
    cfg = tiny_cfg(tmp_path / 'work', loop='epoch', epochs=2, batch_size=16,
                   samples=203)
    view = cfg.train_dataloader.dataset.pipeline[0]
    cfg.train_dataloader.dataset = dict(
        type='ImageFolderDataset', data_root=str(images), data_prefix='train',
        skip_bad_images=True,
        pipeline=[dict(type='LoadRGBImage'), view, dict(type='PackInputs')])
    cfg.log_level = 'INFO'
    cfg.default_hooks.skipped_images = dict(type='SkippedImagesHook')
    runner = train(cfg)
    log = open(runner.logger.log_file).read()
    # 203 files, 3 of them bad; batches of 16 cover 192 per epoch, so an
    # epoch may not draw all three: what it reports, it reports once
    reports = [line for line in log.splitlines()
               if 'unreadable image files skipped' in line]
    assert 1 <= len(reports) <= 2
    for line in reports:
        epoch = int(line.split('epoch ')[1].split(':')[0])
        listed = (tmp_path / 'work' /
                  f'skipped_images_epoch_{epoch}.txt').read_text().split()
        assert len(set(listed)) == len(listed) <= 3
        assert {p.rsplit('/', 1)[1] for p in listed} <= set(names)
        assert f': {len(listed)} unreadable image files skipped' in line
