"""benchmarks/quality.py: the data and the config of a quality run."""
from mmengine.config import Config

from benchmarks import quality
from benchmarks.tests.conftest import small_archive

CONFIG = 'configs/byol_resnet18-w16_1xb128-coslr-200e_cifar10-24px.py'
NAMES = ['0000.jpg', '0001.jpg', '0002.jpg', '0003.jpg', '4500.jpg']


def _data(tmp_path, *options):
    archive = tmp_path / 'train.tar.gz'
    small_archive(archive, [(200, 30, 30), (30, 200, 30)], [NAMES] * 2)
    args = quality.parse_args([
        CONFIG, '--epochs', '4', '--data-tar', str(archive), '--data-root',
        str(tmp_path / 'jpegs'), *options])
    return args, quality.prepare_data(args)


def test_trains_on_the_train_images_and_queries_the_held_out(tmp_path):
    args, data = _data(tmp_path, '--train-fraction', '0.5')
    assert data['sizes'] == dict(train=4, bank=8, held_out=2)
    assert len(data['indices']) == 4  # half of each class's 4 images
    bank, held = (open(data['paths'][k]).read().split('\n')
                  for k in ('bank', 'held_out'))
    assert all(line.startswith('train/') for line in bank if line)
    assert [line for line in held if line] == [
        'held_out/class0/4500.jpg 0', 'held_out/class1/4500.jpg 1']

    cfg = quality.build_cfg(args, data, 4, str(tmp_path / 'run'))
    train = cfg.train_dataloader.dataset
    assert train.type == 'ImageFolderDataset'
    assert (train.data_root, train.data_prefix) == (
        str(tmp_path / 'jpegs'), 'train')
    assert train.indices == data['indices']
    # the config's own views
    assert train.pipeline == Config.fromfile(
        CONFIG).train_dataloader.dataset.pipeline
    knn = [h for h in cfg.custom_hooks if h['type'] == 'KNNHook']
    assert len(knn) == 1
    for loader in (knn[0]['bank_dataloader'], knn[0]['query_dataloader']):
        steps = [t['type'] for t in loader['dataset']['pipeline']]
        # RGB as in training, resized to the 24 px views
        assert steps == ['LoadRGBImage', 'Resize', 'PackInputs']
    # warm-up + cosine fitted to the 4 epochs
    assert [s['type'] for s in cfg.param_scheduler] == ['CosineAnnealingLR']
    assert cfg.train_cfg.max_epochs == 4


def test_a_one_epoch_run_reports_both_encoders(tmp_path, capsys):
    names = [f'{i:04d}.jpg' for i in range(6)] + ['4500.jpg', '4501.jpg']
    archive = tmp_path / 'train.tar.gz'
    small_archive(archive, [(200, 30, 30), (30, 200, 30), (30, 30, 200)],
                  [names] * 3)
    result = quality.main([
        CONFIG, '--epochs', '1', '--data-tar', str(archive), '--data-root',
        str(tmp_path / 'jpegs'), '--work-dir', str(tmp_path / 'work'),
        '--k', '3', '--num-workers', '0', '--out', str(tmp_path / 'r.json'),
        '--cfg-options', 'train_dataloader.batch_size=4',
        'model.neck.hid_channels=32', 'model.neck.out_channels=16',
        'model.head.predictor.in_channels=16',
        'model.head.predictor.hid_channels=32',
        'model.head.predictor.out_channels=16'
    ])
    assert (result['epochs_run'], result['iters']) == (1, 4)  # 18 / 4
    assert 'queries: the 6 held-out images' in result['data']
    for key in ('knn_top1_random_init', 'knn_top1_byol'):
        assert 0 <= result[key] <= 1
    assert '| random init |' in capsys.readouterr().out
