"""The blur kernel: size, sigma, per-sample kernels, padding."""
import numpy as np
import torch
import torchvision.transforms.v2.functional as TF

from mmbyol.augmentations import (BYOL_T, blur_kernel_size, gaussian_blur,
                                  gaussian_kernels, sample_view_params)


def test_kernel_size_is_23_at_224_and_a_tenth_of_the_side():
    assert blur_kernel_size(224) == 23
    assert blur_kernel_size(32) == 3
    assert blur_kernel_size(96) == 9
    for side in (64, 128, 224, 256, 512):
        k = blur_kernel_size(side)
        assert k % 2 == 1 and abs(k - side / 10) <= 2


def test_sigma_range_of_the_paper():
    params = sample_view_params(5000, BYOL_T)
    assert params.sigma.min() >= 0.1 and params.sigma.max() <= 2.0
    # uniform: mean 1.05, sd 1.9 / sqrt(12)
    assert abs(params.sigma.mean().item() - 1.05) < 5 * 0.5485 / 5000**0.5


def test_kernels_are_normalised_gaussians():
    k = gaussian_kernels(torch.tensor([0.5, 2.0]), 23)
    assert k.shape == (2, 23)
    torch.testing.assert_close(k.sum(1), torch.ones(2))
    x = torch.arange(-11, 12, dtype=torch.float32)
    ref = torch.exp(-x**2 / 8)
    torch.testing.assert_close(k[1], ref / ref.sum())


def test_per_sample_sigma_matches_torchvision(real_images):
    up = torch.nn.functional.interpolate(real_images, size=96,
                                         mode='bilinear')
    sigma = torch.linspace(0.1, 2.0, len(up))
    out = gaussian_blur(up, sigma, blur_kernel_size(96))
    for i, s in enumerate(sigma.tolist()):
        ref = TF.gaussian_blur(up[i], [9, 9], [s, s])
        torch.testing.assert_close(out[i], ref, atol=2e-6, rtol=0)


def test_zero_padding_matches_a_direct_2d_convolution(real_images):
    x = real_images[:2]
    sigma = torch.tensor([0.8, 1.7])
    out = gaussian_blur(x, sigma, 5, padding='zeros')
    k = gaussian_kernels(sigma, 5).double().numpy()
    for i in range(2):
        k2 = np.outer(k[i], k[i])
        padded = np.pad(x[i].double().numpy(), ((0, 0), (2, 2), (2, 2)))
        ref = np.zeros(x[i].shape)
        for dy in range(5):
            for dx in range(5):
                ref += k2[dy, dx] * padded[:, dy:dy + 32, dx:dx + 32]
        np.testing.assert_allclose(out[i].numpy(), ref, atol=1e-5)


def test_cpu_and_device_implementations_agree(real_images):
    # the CPU runs shifted multiply-adds, a GPU grouped convolutions
    import torch.nn.functional as F

    from mmbyol.augmentations.blur import _separable_conv, _separable_taps
    sigma = torch.linspace(0.1, 2.0, real_images.shape[0])
    k = gaussian_kernels(sigma, 9)
    padded = F.pad(real_images, (4, ) * 4, mode='reflect')
    h, w = real_images.shape[-2:]
    taps = _separable_taps(padded, k, h, w)
    torch.testing.assert_close(taps, _separable_conv(padded, k, h, w),
                               atol=1e-6, rtol=0)
    assert not torch.allclose(taps, real_images, atol=1e-3)


def test_skipped_taps_do_not_change_the_blur(real_images):
    from mmbyol.augmentations import blur_radius
    up = torch.nn.functional.interpolate(real_images[:4], size=224,
                                         mode='bilinear')
    assert [blur_radius(s, 23) for s in (0.1, 0.5, 1.0, 1.9, 2.0)] == [
        1, 3, 6, 11, 11]
    assert blur_radius(2.0, 9) == 4 and blur_radius(0.5, 1) == 0
    for sigma in ([0.1, 0.3, 0.2, 0.15], [0.5, 1.2, 0.9, 1.0],
                  [1.9, 2.0, 0.1, 1.0]):
        sigma = torch.tensor(sigma)
        full = gaussian_blur(up, sigma, 23)
        fewer = gaussian_blur(up, sigma, 23, max_sigma=sigma.max().item())
        torch.testing.assert_close(fewer, full, atol=1e-6, rtol=0)
    # and a too-small max_sigma would show: the test can fail
    sigma = torch.full((4, ), 2.0)
    assert not torch.allclose(gaussian_blur(up, sigma, 23, max_sigma=0.3),
                              gaussian_blur(up, sigma, 23), atol=1e-3)
