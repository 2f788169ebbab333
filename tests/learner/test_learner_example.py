"""examples/plain_pytorch_byol.py trains a few steps on real CIFAR JPEGs."""
from pathlib import Path

import torch
import torchvision
from tests.conftest import load_script

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
                              'byol_resnet18_cifar10.py'))
    model = MODELS.build(cfg.model)
    checkpoint = load_checkpoint(model, summary['runner_checkpoint'],
                                 strict=True)
    assert checkpoint['byol_momentum']['steps'] == 3
    assert torch.equal(model.backbone.conv1.weight, state['conv1.weight'])
