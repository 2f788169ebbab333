"""Each colour op against an independent reference on real images."""
import colorsys

import numpy as np
import pytest
import torch
import torchvision.transforms.v2.functional as TF
from PIL import Image, ImageEnhance, ImageOps

from mmbyol.augmentations import (adjust_brightness, adjust_contrast,
                                  adjust_hue, adjust_saturation, hsv_to_rgb,
                                  rgb_to_hsv, solarize, to_gray)

FACTORS = torch.tensor([0.6, 0.75, 0.9, 1.0, 1.1, 1.25, 1.4, 0.65])
SHIFTS = torch.tensor([-0.1, -0.07, -0.03, 0.0, 0.02, 0.05, 0.08, 0.1])


@pytest.mark.parametrize('ours,ref,factors', [
    (adjust_brightness, TF.adjust_brightness, FACTORS),
    (adjust_contrast, TF.adjust_contrast, FACTORS),
    (adjust_saturation, TF.adjust_saturation, FACTORS),
    (adjust_hue, TF.adjust_hue, SHIFTS),
])
def test_torchvision_convention_matches_torchvision(real_images, ours, ref,
                                                    factors):
    # one factor per sample, all different: each image gets its own
    out = ours(real_images, factors)
    for i, f in enumerate(factors.tolist()):
        expected = ref(real_images[i], f)
        torch.testing.assert_close(out[i], expected, atol=2e-5, rtol=0)


def test_gray_and_solarize_match_torchvision(real_images):
    torch.testing.assert_close(
        to_gray(real_images), TF.rgb_to_grayscale(real_images),
        atol=1e-6, rtol=0)
    torch.testing.assert_close(solarize(real_images),
                               TF.solarize(real_images, 0.5))


def _pil(x):
    return Image.fromarray(
        (x.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8))


def _tensor(img):
    return torch.from_numpy(np.asarray(img, dtype=np.float32) / 255
                            ).permute(2, 0, 1)


def test_uint8_images_match_pil_within_two_levels(real_images):
    # PIL rounds to uint8 after the op: allow 2/255 (brightness,
    # saturation) and 1/255 for solarize; PIL's contrast uses an integer
    # mean, so allow 3/255 there.
    x = torch.stack([_tensor(_pil(img)) for img in real_images])
    for i, f in enumerate(FACTORS.tolist()):
        img = _pil(x[i])
        for ours, enhancer, tol in (
                (adjust_brightness, ImageEnhance.Brightness, 2),
                (adjust_contrast, ImageEnhance.Contrast, 3),
                (adjust_saturation, ImageEnhance.Color, 2)):
            got = ours(x[i:i + 1], FACTORS[i:i + 1])[0]
            expected = _tensor(enhancer(img).enhance(f))
            assert (got - expected).abs().max() <= tol / 255 + 1e-6
        expected = _tensor(ImageOps.solarize(img, threshold=128))
        assert (solarize(x[i]) - expected).abs().max() <= 1e-6


def test_hsv_against_colorsys(real_images):
    pixels = real_images.permute(0, 2, 3, 1).reshape(-1, 3)[::37]
    ref = torch.tensor([colorsys.rgb_to_hsv(*p) for p in pixels.tolist()])
    hsv = rgb_to_hsv(pixels.T.reshape(1, 3, -1, 1))[0, :, :, 0].T
    # hue is circular: compare on the circle
    dh = (hsv[:, 0] - ref[:, 0]).abs()
    assert torch.minimum(dh, 1 - dh).max() < 1e-5
    torch.testing.assert_close(hsv[:, 1:], ref[:, 1:], atol=1e-5, rtol=0)
    back = hsv_to_rgb(rgb_to_hsv(real_images))
    torch.testing.assert_close(back, real_images, atol=1e-5, rtol=0)


def test_dm_exact_ops_follow_deepminds_formulas(real_images):
    x = real_images[:4]
    f = torch.tensor([0.7, 0.9, 1.2, 1.4])
    delta = torch.tensor([-0.3, -0.1, 0.2, 0.4])
    # brightness: additive delta, clipped
    expected = (x + delta.view(-1, 1, 1, 1)).clamp(0, 1)
    torch.testing.assert_close(adjust_brightness(x, delta, 'dm_exact'),
                               expected)
    # contrast: around each channel's own mean
    mean = x.mean(dim=(2, 3), keepdim=True)
    fv = f.view(-1, 1, 1, 1)
    torch.testing.assert_close(
        adjust_contrast(x, f, 'dm_exact'),
        (fv * (x - mean) + mean).clamp(0, 1), atol=1e-6, rtol=0)
    # saturation: S * f clipped in HSV, per pixel through colorsys
    got = adjust_saturation(x, f, 'dm_exact')
    for i in range(4):
        for r, c in ((0, 0), (5, 17), (31, 31), (12, 3)):
            h, s, v = colorsys.rgb_to_hsv(*x[i, :, r, c].tolist())
            ref = colorsys.hsv_to_rgb(h, min(s * f[i].item(), 1.0), v)
            torch.testing.assert_close(got[i, :, r, c], torch.tensor(ref),
                                       atol=1e-5, rtol=0)
    # different from the torchvision convention (they are not the same op)
    assert not torch.allclose(adjust_brightness(x, delta + 1),
                              adjust_brightness(x, delta, 'dm_exact'))
