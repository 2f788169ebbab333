"""The README's detection command: mmbyol's ``tools/train.py`` trains a
shipped Mask R-CNN config (MMDetection's scope, MMEngine's Runner) from an
mmdet export, with ``--max-iters`` and the COCO metric at the end."""
from tests.detection.stack import require_detection_stack

require_detection_stack()

import pytest  # noqa: E402
import torch  # noqa: E402
from mmpretrain.models import ResNet  # noqa: E402

from tests.conftest import CIFAR_TAR, load_script  # noqa: E402


def test_tools_train_py_runs_a_mask_rcnn_config(tmp_path):
    if not CIFAR_TAR.exists():
        pytest.skip(f'{CIFAR_TAR} not found')
    cifar_coco = load_script('benchmarks/detection/cifar_coco.py')
    finetune = load_script('benchmarks/detection/finetune.py')
    data = tmp_path / 'coco'
    cifar_coco.main([str(data), '--train', '4', '--val', '2', '--canvas',
                     '64'])
    export = tmp_path / 'r50_mmdet.pth'
    torch.save(dict(state_dict=ResNet(50).state_dict(), meta=dict()), export)
    # the shipped config with the small set's paths and class names
    cfg = finetune.small_set_config('fpn', data, export, tmp_path / 'work',
                                    iters=2, canvas=64, lr=0.01, rois=16)
    cfg.val_dataloader, cfg.val_evaluator = cfg.test_dataloader, \
        cfg.test_evaluator
    cfg.val_cfg = dict(type='ValLoop')
    cfg.dump(str(tmp_path / 'mask_rcnn.py'))
    runner = load_script('tools/train.py').main(
        [str(tmp_path / 'mask_rcnn.py'), '--max-iters', '2'])
    assert type(runner).__name__ == 'Runner'  # MMEngine's, mmdet scope
    assert runner.iter == 2
    log = open(runner.logger.log_file).read()
    assert 'coco/bbox_mAP' in log and 'coco/segm_mAP' in log
    assert (tmp_path / 'work' / 'iter_2.pth').exists()
