"""examples/plain_pytorch_byol.py trains a few steps on real CIFAR JPEGs."""
import shutil
from pathlib import Path

import pytest
import torch
import torchvision
from PIL import Image
from tests.conftest import load_script

from mmbyol.datasets import BadImageWarning

EXAMPLE = Path(__file__).resolve().parents[2] / 'examples' / \
    'plain_pytorch_byol.py'


def load_example():
    return load_script('examples/plain_pytorch_byol.py')


def test_example_runs_on_real_images(cifar_folder, tmp_path, capsys):
    # cifar_folder: tests/conftest.py, a few training JPEGs per class
    example = load_example()
    summary = example.main([
        str(cifar_folder), '--out', str(tmp_path), '--image-size', '24',
        '--batch-size', '4', '--max-iters', '3', '--workers', '0',
        '--cifar-stem', '--device', 'cpu'
    ])
    assert summary['steps'] == 3
    assert 0 <= summary['final_loss'] <= 8
    assert '"steps": 3' in capsys.readouterr().out
    # The saved encoder is a plain torchvision ResNet-18 state dict.
    encoder = example.build_encoder(cifar_stem=True)
    state = torch.load(tmp_path / 'encoder.pth', weights_only=True)
    encoder.load_state_dict(state)
    assert not torch.equal(state['conv1.weight'],
                           torchvision.models.resnet18().conv1.weight[:, :,
                                                                      :3, :3])
    learner = torch.load(tmp_path / 'learner.pth', weights_only=True)
    assert learner['_extra_state']['steps'] == 3
    assert torch.equal(learner['net.conv1.weight'], state['conv1.weight'])
    # ... and as a Runner checkpoint, loading strictly into the model of
    # the CIFAR-10 recipe (MMPretrain ResNet_CIFAR-18, paper-size MLPs).
    from mmengine.config import Config
    from mmengine.runner import load_checkpoint
    from mmbyol.registry import MODELS
    cfg = Config.fromfile(str(EXAMPLE.parents[1] / 'configs' /
                              'byol_resnet18_1xb256-coslr-200e_cifar10.py'))
    model = MODELS.build(cfg.model)
    checkpoint = load_checkpoint(model, summary['runner_checkpoint'],
                                 strict=True)
    assert checkpoint['byol_momentum']['steps'] == 3
    assert torch.equal(model.backbone.conv1.weight, state['conv1.weight'])


def test_example_reads_any_folder_and_skips_bad_files(cifar_folder, tmp_path):
    """Class folders at two depths, a grey PNG in the root, a garbage and a
    truncated JPEG: the run completes and names the two unreadable files."""
    jpgs = sorted(cifar_folder.rglob('*.jpg'))
    root = tmp_path / 'images'
    for folder, sources in (('airplane', jpgs[:3]),
                            ('more/deeply/cat', jpgs[3:5])):
        (root / folder).mkdir(parents=True)
        for src in sources:
            shutil.copy(src, root / folder / src.name)
    Image.open(jpgs[5]).convert('L').save(root / 'grey.png')
    garbage = root / 'airplane' / 'garbage.jpg'
    garbage.write_bytes(b'not an image' * 20)
    truncated = root / 'truncated.jpg'
    truncated.write_bytes(jpgs[6].read_bytes()[:300])

    # 8 files in batches of 4: the first epoch (2 steps) draws every file.
    with pytest.warns(BadImageWarning) as caught:
        summary = load_example().main([
            str(root), '--out', str(tmp_path / 'out'), '--image-size', '24',
            '--batch-size', '4', '--max-iters', '2', '--workers', '0',
            '--cifar-stem', '--device', 'cpu'
        ])
    assert summary['steps'] == 2
    assert summary['skipped_images'] == sorted([str(garbage), str(truncated)])
    warned = ' '.join(str(w.message) for w in caught)
    assert str(garbage) in warned and str(truncated) in warned
