"""The COCO-format set of benchmarks/detection/cifar_coco.py: exact boxes
and masks, read back with pycocotools; held-out images only in ``val``."""
from tests.detection.stack import require_detection_stack

require_detection_stack()

import json  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from pycocotools.coco import COCO  # noqa: E402

from tests.conftest import CIFAR_TAR, load_script  # noqa: E402

cifar_coco = load_script('benchmarks/detection/cifar_coco.py')


@pytest.fixture(scope='module')
def built(tmp_path_factory):
    if not CIFAR_TAR.exists():
        pytest.skip(f'{CIFAR_TAR} not found')
    out = tmp_path_factory.mktemp('cifar_coco')
    info = {split: cifar_coco.build_split(out, split, n, canvas=96,
                                          tar_path=CIFAR_TAR)
            for split, n in (('train', 6), ('val', 4))}
    return out, info


@pytest.mark.parametrize('split', ['train', 'val'])
def test_boxes_and_masks_are_exact(built, split):
    out, info = built
    coco = COCO(str(out / 'annotations' / f'{split}.json'))
    assert len(coco.imgs) == info[split]['images']
    assert len(coco.anns) == info[split]['instances'] >= len(coco.imgs)
    assert [c['name'] for c in coco.loadCats(coco.getCatIds())] == \
        list(cifar_coco.CLASSES)
    for image_id, image in coco.imgs.items():
        assert (out / split / image['file_name']).is_file()
        union = np.zeros((image['height'], image['width']), int)
        for ann in coco.loadAnns(coco.getAnnIds(imgIds=image_id)):
            mask = coco.annToMask(ann)
            ys, xs = np.nonzero(mask)
            assert ann['area'] == mask.sum() > 0
            assert ann['bbox'] == [xs.min(), ys.min(),
                                   xs.max() - xs.min() + 1,
                                   ys.max() - ys.min() + 1]
            union += mask
        assert union.max() == 1  # pasted objects never overlap


def test_splits_use_disjoint_image_numbers(built):
    _, info = built
    assert 0 <= info['train']['cifar_numbers'][0]
    assert info['train']['cifar_numbers'][1] <= 4499
    assert 4500 <= info['val']['cifar_numbers'][0]
    assert info['val']['cifar_numbers'][1] <= 4999


def test_pretraining_folder_refuses_held_out_images(tmp_path):
    with pytest.raises(ValueError, match='held-out'):
        cifar_coco.extract_folder(tmp_path, 4501, tar_path=CIFAR_TAR)


def test_rle_round_trip():
    from pycocotools import mask as mask_utils
    rng = np.random.default_rng(0)
    for first in (0, 1):
        mask = rng.random((7, 5)) > 0.5
        mask[0, 0] = first
        rle = cifar_coco.rle(mask)
        json.dumps(rle)
        decoded = mask_utils.decode(mask_utils.frPyObjects(rle, 7, 5))
        np.testing.assert_array_equal(decoded, mask)
