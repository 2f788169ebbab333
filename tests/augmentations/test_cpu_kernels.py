"""The fused CPU kernels against the tensor ops they replace on a CPU."""
import pytest
import torch
import torch.nn.functional as F
import torchvision.transforms.v2.functional as TF

from mmbyol.augmentations import (BYOL_T, BYOL_T_PRIME, CONVENTIONS,
                                  apply_photometric, sample_view_params)
from mmbyol.augmentations import cpu_kernels
from mmbyol.augmentations.cpu_kernels import (cpu_kernels_enabled,
                                              use_cpu_kernels)

pytestmark = pytest.mark.skipif(cpu_kernels.numba is None,
                                reason='numba is not installed')

# fp32 ops in the same order; FMA contraction and summation order move a
# value by a few ulps, and the hue's division by max - min can amplify that
ATOL = 5e-6


def _both(x, params, convention, **kwargs):
    with use_cpu_kernels(False):
        expected = apply_photometric(x, params, convention, **kwargs)
    with use_cpu_kernels(True):
        fused = apply_photometric(x, params, convention, **kwargs)
    return fused, expected


def _params(n, spec, size, convention, seed, **force):
    params = sample_view_params(n, spec, size, size, convention,
                                generator=torch.Generator().manual_seed(seed))
    for name, value in force.items():
        getattr(params, name)[:] = value
    return params


@pytest.mark.parametrize('convention', CONVENTIONS)
@pytest.mark.parametrize('spec', [BYOL_T, BYOL_T_PRIME], ids=['T', "T'"])
def test_fused_equals_tensor_ops_on_real_images(real_images, convention,
                                                spec):
    for seed in range(4):
        params = _params(8, spec, 32, convention, seed)
        fused, expected = _both(real_images, params, convention)
        torch.testing.assert_close(fused, expected, atol=ATOL, rtol=0)


@pytest.mark.parametrize('convention', CONVENTIONS)
@pytest.mark.parametrize('op', range(4))
def test_each_colour_op_alone_at_every_step(real_images, convention, op):
    # order[:, step] == op for one step and identity factors elsewhere is
    # not possible (order is a permutation), so run each op first and make
    # the three others the identity
    params = _params(8, BYOL_T, 32, convention, 11 + op, jitter=True,
                     gray=False, blur=False, solarize=False)
    rest = [i for i in range(4) if i != op]
    params.order[:] = torch.tensor([op] + rest)
    identity = torch.tensor([0.0 if convention == 'dm_exact' else 1.0, 1.0,
                             1.0, 0.0])
    params.factors[:, rest] = identity[rest]
    fused, expected = _both(real_images, params, convention)
    torch.testing.assert_close(fused, expected, atol=ATOL, rtol=0)
    assert (fused - real_images).abs().amax() > 0.01  # the op did act
    if convention == 'torchvision':  # and against torchvision itself
        reference = (TF.adjust_brightness, TF.adjust_contrast,
                     TF.adjust_saturation, TF.adjust_hue)[op]
        for i in range(8):
            torch.testing.assert_close(
                fused[i], reference(real_images[i],
                                    params.factors[i, op].item()),
                atol=2e-5, rtol=0)


@pytest.mark.parametrize('convention', CONVENTIONS)
def test_every_op_at_224_px_with_the_23_tap_blur(real_images, convention):
    x = F.interpolate(real_images[:3], size=(224, 224), mode='bicubic',
                      align_corners=False).clamp(0, 1)
    params = _params(3, BYOL_T, 224, convention, 5, jitter=True, gray=False,
                     blur=True, solarize=True)
    params.sigma[:] = torch.tensor([0.1, 1.0, 2.0])  # 1, 13 and 23 taps
    fused, expected = _both(x, params, convention)
    torch.testing.assert_close(fused, expected, atol=ATOL, rtol=0)
    params.gray[:] = True
    fused, expected = _both(x, params, convention)
    torch.testing.assert_close(fused, expected, atol=ATOL, rtol=0)
    assert torch.equal(fused[:, 0], fused[:, 1])  # grey stays grey


@pytest.mark.parametrize('convention', CONVENTIONS)
def test_edges_grey_saturated_and_tiny_images(convention):
    # grey pixels (max = min), ties between channels, 0 and 1 exactly
    levels = torch.tensor([0.0, 0.5, 1.0])
    grid = torch.cartesian_prod(levels, levels, levels).T  # (3, 27)
    x = grid.reshape(1, 3, 3, 9).repeat(4, 1, 1, 1)
    params = _params(4, BYOL_T_PRIME, 3, convention, 3, jitter=True,
                     blur=True, solarize=True)
    params.sigma[:] = 2.0  # a radius cut to the 3-pixel side
    fused, expected = _both(x, params, convention)
    torch.testing.assert_close(fused, expected, atol=ATOL, rtol=0)
    one_pixel = torch.rand(2, 3, 1, 1)
    fused, expected = _both(one_pixel, _params(2, BYOL_T, 1, convention, 4,
                                               blur=True), convention)
    torch.testing.assert_close(fused, expected, atol=ATOL, rtol=0)


def test_input_is_left_alone_and_layouts_are_handled(real_images):
    x = real_images.contiguous(memory_format=torch.channels_last)
    before = x.clone()
    params = _params(8, BYOL_T, 32, 'torchvision', 9)
    fused, expected = _both(x, params, 'torchvision')
    torch.testing.assert_close(fused, expected, atol=ATOL, rtol=0)
    assert torch.equal(x, before)


def test_the_switch_selects_the_path(real_images, monkeypatch):
    calls = []
    real = cpu_kernels.photometric_
    monkeypatch.setattr('mmbyol.augmentations.views.photometric_',
                        lambda *a: calls.append(1) or real(*a))
    params = _params(8, BYOL_T, 32, 'torchvision', 1)
    assert cpu_kernels_enabled()
    with use_cpu_kernels(False):
        assert not cpu_kernels_enabled()
        apply_photometric(real_images, params)
    assert calls == []
    apply_photometric(real_images, params)
    assert calls == [1]
    # not float32, or differentiable: the tensor ops
    apply_photometric(real_images.double(), params)
    out = apply_photometric(real_images.clone().requires_grad_(), params)
    assert calls == [1] and out.requires_grad


@pytest.mark.parametrize('dtype', [torch.uint8, torch.float32])
@pytest.mark.parametrize('convention', CONVENTIONS)
def test_preprocessor_fuses_conversion_and_normalisation(
        real_images, convention, dtype, monkeypatch):
    from mmbyol.models.data_preprocessors import BYOLDataPreprocessor
    module = 'mmbyol.models.data_preprocessors.byol_data_preprocessor'
    calls, real = [], cpu_kernels.photometric_normalized
    monkeypatch.setattr(f'{module}.photometric_normalized',
                        lambda *a: calls.append(1) or real(*a))
    pre = BYOLDataPreprocessor(mean=[120.0, 110.0, 100.0],
                               std=[50.0, 60.0, 70.0],
                               augment_on_device=True, convention=convention)
    pixels = (real_images * 255).round().to(dtype)
    data = dict(inputs=[pixels, pixels.flip(-1)])
    outputs = []
    for enabled in (False, True):
        pre._generator = None  # the same draws for both paths
        with use_cpu_kernels(enabled):
            outputs.append(pre(data, training=True)['inputs'])
    for expected, fused in zip(*outputs):
        # 255 / std scales the [0, 1] tolerance
        torch.testing.assert_close(fused, expected, atol=ATOL * 255 / 50,
                                   rtol=0)
    assert not torch.equal(outputs[0][0], outputs[0][1])
    assert len(calls) == 2  # once per view, kernels on only


@pytest.mark.parametrize('convention', CONVENTIONS)
@pytest.mark.parametrize('size', [32, 96])
def test_uint8_views_match_the_tensor_ops_to_one_grey_level(
        real_images, convention, size):
    from mmbyol.augmentations import apply_photometric_uint8
    x = F.interpolate(real_images, size=(size, size), mode='bicubic',
                      align_corners=False).clamp(0, 1)
    pixels = (x * 255).round().to(torch.uint8).contiguous(
        memory_format=torch.channels_last)  # as BYOLViews resizes them
    for seed, spec in enumerate((BYOL_T, BYOL_T_PRIME)):
        params = _params(8, spec, size, convention, 20 + seed, jitter=True,
                         solarize=seed == 1)
        with use_cpu_kernels(False):
            expected = apply_photometric_uint8(pixels, params, convention)
        fused = apply_photometric_uint8(pixels, params, convention)
        assert fused.dtype == torch.uint8 and fused.shape == pixels.shape
        diff = (fused.int() - expected.int()).abs()
        # a value within 5e-6 of a rounding boundary may round either way
        assert diff.max() <= 1 and (diff > 0).float().mean() < 1e-3
        assert (fused.int() - pixels.int()).abs().float().mean() > 1


def test_kernels_compile_without_a_writable_cache(monkeypatch):
    # e.g. a read-only site-packages and no user cache directory: numba
    # refuses cache=True at decoration, and the kernels compile per process
    from mmbyol.augmentations import jit
    real = jit.numba.njit

    def njit(**kwargs):
        if kwargs.get('cache'):
            raise RuntimeError('cannot cache function: no locator available')
        return real(**kwargs)

    monkeypatch.setattr(jit.numba, 'njit', njit)

    def double(x):
        return 2 * x

    compiled = jit.jit(double)
    assert compiled(21) == 42 and compiled is not double
    assert hasattr(compiled, 'signatures')  # a numba dispatcher
