from pathlib import Path

from PIL import Image
from tests.conftest import load_script

REPO = Path(__file__).resolve().parents[2]


def test_visualize_views_writes_a_png(cifar_batches, accept_cifar_checksums,
                                      tmp_path):
    tool = load_script('tools/visualize_views.py')
    out = tmp_path / 'views.png'
    tool.main([
        str(REPO / 'configs/byol_resnet18_1xb256-coslr-200e_cifar10.py'),
        '--out', str(out), '--num', '3', '--draws', '1', '--cfg-options',
        f'train_dataloader.dataset.data_root={cifar_batches}'
    ])
    with Image.open(out) as img:
        assert img.format == 'PNG' and img.width > 100 and img.height > 100
