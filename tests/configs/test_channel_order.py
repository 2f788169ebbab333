"""Every shipped config feeds its network RGB, the order BYOL trained on:
mmbyol's loader gives RGB with no swap, MMCV's gives BGR and the data
preprocessor swaps."""
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import default_collate
from PIL import Image

from mmbyol import register_all_modules
from mmbyol.engine.runner import build_model
from mmbyol.registry import TRANSFORMS

CONFIGS = Path(__file__).resolve().parents[2] / 'configs'
# MMDetection's configs are checked where MMDetection is installed
# (tests/detection)
SHIPPED = sorted(p for p in CONFIGS.rglob('*.py')
                 if '_base_' not in p.parts and 'mask-rcnn' not in p.name)


def _loaders(cfg):
    """(key, pipeline) of every data set the config reads."""
    found = []
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dataset = (cfg.get(key) or {}).get('dataset')
        while isinstance(dataset, dict) and 'dataset' in dataset:
            dataset = dataset['dataset']  # ClassBalancedSubset and friends
        if isinstance(dataset, dict) and dataset.get('pipeline'):
            found.append((key, dataset))
    for name in ('knn_bank', 'knn_query'):
        if cfg.get(name):
            found.append((name, cfg[name]))
    return found


def _swaps(cfg) -> bool:
    pre = cfg.model.get('data_preprocessor') or cfg.get(
        'data_preprocessor') or {}
    return bool(pre.get('to_rgb') or pre.get('bgr_to_rgb'))


@pytest.mark.parametrize('path', SHIPPED, ids=lambda p: p.name)
def test_every_loader_and_preprocessor_give_rgb(path):
    cfg = Config.fromfile(str(path))
    swaps = _swaps(cfg)
    loaders = _loaders(cfg)
    assert loaders, path.name
    for key, dataset in loaders:
        first = dataset['pipeline'][0]['type']
        if first == 'LoadRGBImage':
            assert not swaps, f'{key}: RGB loaded, then swapped to BGR'
        elif first == 'LoadImageFromFile':
            assert swaps, f'{key}: BGR loaded and never swapped'
        else:  # an in-memory data set yielding RGB arrays (the digits)
            assert dataset['type'] == 'DigitsDataset' and not swaps


EVAL = [p for p in SHIPPED if p.name.startswith(('linear_', 'semi_'))]


@pytest.mark.parametrize('path', EVAL, ids=lambda p: p.name)
def test_a_red_image_reaches_the_network_red(path, tmp_path):
    """The evaluation pipeline and the model's preprocessor, run on a pure
    red image: channel 0 of the network input is high, channel 2 low."""
    register_all_modules()
    cfg = Config.fromfile(str(path))
    cfg.model.backbone.init_cfg = None
    for entry in (cfg.model.head, cfg.model.data_preprocessor):
        if entry.get('num_classes') is None:
            entry.num_classes = 10
    red = np.zeros((40, 48, 3), np.uint8)
    red[..., 0] = 255
    Image.fromarray(red).save(tmp_path / 'red.png')
    dataset = cfg.val_dataloader.dataset
    results = (dict(img=red) if 'CIFAR' in dataset.type else
               dict(img_path=str(tmp_path / 'red.png')))
    for transform in dataset.pipeline:
        results = TRANSFORMS.build(transform)(results)
    model = build_model(cfg)
    inputs = model.data_preprocessor(default_collate([results]),
                                     False)['inputs']
    means = inputs[0].float().mean(dim=(1, 2))
    assert means[0] > 1 and means[2] < -1, means
    assert torch.isfinite(inputs).all()
