"""benchmarks/detection/finetune.py end to end, small: the COCO-format set,
BYOL pretraining (tools/train.py), the mmdet export
(tools/extract_backbone.py), Mask R-CNN R50-FPN through MMDetection's
Runner from that export, CocoMetric on held-out images."""
from tests.detection.stack import require_detection_stack

require_detection_stack()

import json  # noqa: E402
import math  # noqa: E402

import pytest  # noqa: E402

from tests.conftest import CIFAR_TAR, load_script  # noqa: E402

ITERS = 10


@pytest.fixture(scope='module')
def results(tmp_path_factory):
    if not CIFAR_TAR.exists():
        pytest.skip(f'{CIFAR_TAR} not found')
    finetune = load_script('benchmarks/detection/finetune.py')
    work = tmp_path_factory.mktemp('detection')
    out = finetune.main([
        '--work-dir', str(work), '--archs', 'fpn', '--train-images', '6',
        '--val-images', '3', '--canvas', '80', '--iters', str(ITERS),
        '--byol-per-class', '4', '--byol-size', '32', '--byol-batch', '8'])
    assert json.loads((work / 'results.json').read_text()) == \
        json.loads(json.dumps(out))
    return out


def test_detector_starts_from_byol_export(results):
    check = results['detectors']['fpn']['init_check']
    # every tensor of ResNet-50 (conv, BN affine and statistics)
    assert check['tensors_compared'] == check['tensors_exported'] == 318
    assert check['max_abs_diff'] == 0
    assert check['example']['detector'] == check['example']['export']


def test_losses_fall(results):
    losses = results['detectors']['fpn']['losses']
    assert {'loss', 'loss_rpn_cls', 'loss_rpn_bbox', 'loss_cls',
            'loss_bbox', 'loss_mask'} <= set(losses)
    total = losses['loss']
    assert len(total['per_iter']) == ITERS
    assert all(math.isfinite(v) for v in total['per_iter'])
    assert total['last'] < total['first']


def test_coco_metrics_on_held_out_images(results):
    assert results['set'][1]['split'] == 'val'
    assert results['set'][1]['cifar_numbers'][0] >= 4500
    metrics = results['detectors']['fpn']['metrics']
    for task in ('bbox', 'segm'):
        for key in ('mAP', 'mAP_50', 'mAP_75'):
            assert -1 <= metrics[f'coco/{task}_{key}'] <= 1


def test_byol_pretraining_never_sees_held_out_images(results):
    assert results['byol']['cifar_numbers'] == [0, 3]
    assert results['byol']['iters'] == 5
