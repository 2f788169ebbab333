"""MMPretrain's ColorJitter with hue crashes under numpy 2; mmbyol's, under
the same name, shifts hue both ways as mmcv intended."""
import cv2
import mmcv
import numpy as np
import pytest
from mmpretrain.datasets.transforms import ColorJitter as MMPretrainJitter

from mmbyol.datasets.transforms import ColorJitter, shift_hue
from mmbyol.registry import TRANSFORMS


def _image():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (16, 20, 3), dtype=np.uint8)


def test_mmcv_fails_on_a_negative_hue_under_numpy_2():
    if int(np.__version__.split('.')[0]) < 2:
        pytest.skip('numpy < 2 wraps the negative shift silently')
    with pytest.raises(OverflowError):
        mmcv.adjust_hue(_image(), -0.1, backend='cv2')


@pytest.mark.parametrize('hue', [0.0, 0.1, 0.5, -0.1, -0.5])
def test_shift_hue_rotates_the_hue_channel(hue):
    img = _image()
    out = shift_hue(img, hue)
    before = cv2.cvtColor(img, cv2.COLOR_BGR2HSV_FULL)[..., 0].astype(int)
    after = cv2.cvtColor(out, cv2.COLOR_BGR2HSV_FULL)[..., 0].astype(int)
    # the hue moved by the shift, modulo a turn (within the rounding of
    # the HSV round trip)
    moved = (after - before - int(hue * 255)) % 256
    assert np.mean(np.minimum(moved, 256 - moved)) < 3
    if hue >= 0:  # where mmcv works, the same image
        np.testing.assert_array_equal(
            out, mmcv.adjust_hue(img, hue, backend='cv2'))


def test_the_registered_name_is_mmbyols_and_jitters_hue():
    jitter = TRANSFORMS.build(dict(type='ColorJitter', brightness=0.4,
                                   contrast=0.4, saturation=0.2, hue=0.1))
    assert type(jitter) is ColorJitter
    assert isinstance(jitter, MMPretrainJitter)
    np.random.seed(0)
    for _ in range(20):  # both signs of hue are drawn
        out = jitter(dict(img=_image()))['img']
        assert out.shape == (16, 20, 3) and out.dtype == np.uint8
