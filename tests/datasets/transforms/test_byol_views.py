"""BYOLViews: the workers' crop, resize and flip against PIL."""
import numpy as np
import pytest
from PIL import Image

from mmbyol.datasets.transforms import BYOLViews, read_rgb

# the whole image as the crop, never flipped: only the resize is left
WHOLE = dict(crop_area=(1.0, 1.0), crop_ratio=(1.0, 1.0), flip_prob=0.0)
MIRROR = dict(WHOLE, flip_prob=1.0)


@pytest.fixture(scope='module')
def image(cifar_folder):
    return read_rgb(str(sorted(cifar_folder.rglob('*.jpg'))[0]))


@pytest.mark.parametrize('size', [24, 80])  # shrink and enlarge 32 px
@pytest.mark.parametrize('interpolation,pil', [('bicubic', Image.BICUBIC),
                                               ('bilinear', Image.BILINEAR)])
def test_resize_matches_pil(image, size, interpolation, pil):
    views = BYOLViews(size=size, photometric=False, view_specs=[WHOLE, MIRROR],
                      interpolation=interpolation).transform(
                          dict(img=image))['img']
    ref = np.asarray(Image.fromarray(image).resize((size, size), pil))
    for got, want in zip(views, (ref, ref[:, ::-1])):
        assert got.shape == (size, size, 3) and got.dtype == np.uint8
        assert got.flags.c_contiguous
        diff = np.abs(got.astype(int) - want.astype(int))
        assert diff.max() <= 2 and diff.mean() < 0.2  # grey levels


def test_input_layouts_give_the_same_views(image):
    import torch
    views = BYOLViews(size=24, photometric=False, view_specs=[WHOLE, MIRROR])
    readonly = image.copy()
    readonly.flags.writeable = False
    strided = np.ascontiguousarray(image[..., ::-1])[..., ::-1]  # a view
    for img in (readonly, strided):
        torch.manual_seed(0)
        got = views.transform(dict(img=img))['img']
        torch.manual_seed(0)
        want = views.transform(dict(img=image.copy()))['img']
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g, w)


def test_rejects_a_non_rgb_array():
    with pytest.raises(ValueError, match='RGB uint8'):
        BYOLViews().transform(dict(img=np.zeros((8, 8), np.uint8),
                                   img_path='a.png'))


def test_construction_compiles_the_kernels_without_drawing():
    # the kernels are compiled where the dataset is built, so forked
    # workers inherit them; torch's global generator is left alone. A fresh
    # process, since this one has compiled them already in other tests.
    import subprocess
    import sys
    code = (
        'import torch\n'
        'from mmbyol.augmentations import cpu_kernels, params\n'
        'from mmbyol.datasets.transforms import BYOLViews\n'
        'state = torch.get_rng_state()\n'
        'BYOLViews(size=32)\n'
        'assert torch.equal(state, torch.get_rng_state())\n'
        'print(len(cpu_kernels._photometric_hwc_uint8.signatures),\n'
        '      len(params._crop_boxes_kernel.signatures))\n')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True,
                         text=True, check=True).stdout.split()
    assert out == ['1', '1']
