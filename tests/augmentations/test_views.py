"""make_byol_views and the agreement of the CPU and batched device paths."""

import pytest
import torch
from mmengine.dataset import default_collate

from mmbyol.augmentations import (BYOL_T_PRIME, make_byol_views,
                                  sample_view_params)
from mmbyol.datasets.transforms import BYOLViews
from mmbyol.models.data_preprocessors import BYOLDataPreprocessor


@pytest.mark.parametrize('convention', ['torchvision', 'dm_exact'])
@pytest.mark.parametrize('channels,dtype', [(3, torch.uint8),
                                            (1, torch.float32)])
def test_make_byol_views_contract(real_images, convention, channels, dtype):
    x = real_images[:, :channels]
    x = (x * 255).round().to(torch.uint8) if dtype == torch.uint8 else x
    g = torch.Generator().manual_seed(0)
    v1, v2 = make_byol_views(x, 24, convention, generator=g)
    for v in (v1, v2):
        assert v.shape == (8, 3, 24, 24) and v.dtype == torch.float32
        assert v.device == x.device and 0 <= v.min() and v.max() <= 1
    again = make_byol_views(x, 24, convention,
                            generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(again[0], v1)
    other = make_byol_views(x, 24, convention,
                            generator=torch.Generator().manual_seed(1))
    assert not torch.allclose(other[0], v1)


def test_every_sample_gets_its_own_draw(real_images):
    # one image repeated: if parameters were drawn per batch, all views
    # would be identical
    x = real_images[:1].expand(16, -1, -1, -1)
    v1, v2 = make_byol_views(x, 32, generator=torch.Generator()
                             .manual_seed(2))
    flat = v1.flatten(1)
    assert torch.cdist(flat, flat).fill_diagonal_(1).min() > 1e-3
    assert not torch.allclose(v1, v2)


def test_t_and_t_prime_really_differ():
    # a smooth gradient: solarize (only T') folds values above 0.5, blur
    # (p 1 in T, 0.1 in T') lowers the high-frequency energy
    ramp = torch.linspace(0, 1, 64).expand(3, 64, 64).contiguous()
    checker = ((torch.arange(64)[:, None] + torch.arange(64)) % 2).float()
    x = torch.stack([ramp] * 200 + [checker.expand(3, -1, -1)] * 200)
    g = torch.Generator().manual_seed(3)
    v1, v2 = make_byol_views(x, 64, generator=g)
    top1 = v1[:200].amax(dim=(1, 2, 3))
    top2 = v2[:200].amax(dim=(1, 2, 3))
    # solarized views of the ramp never exceed 0.5 (+ jitter slack)
    assert (top2 < 0.55).float().mean() > (top1 < 0.55).float().mean() + 0.1
    hf1 = (v1[200:, :, :, 1:] - v1[200:, :, :, :-1]).abs().mean()
    hf2 = (v2[200:, :, :, 1:] - v2[200:, :, :, :-1]).abs().mean()
    assert hf2 > 1.5 * hf1


def test_both_paths_draw_the_same_parameter_distribution():
    # the CPU transform draws one sample at a time, the device path a batch
    n = 3000
    torch.manual_seed(5)
    one = [sample_view_params(1, BYOL_T_PRIME, 64, 80) for _ in range(n)]
    batch = sample_view_params(n, BYOL_T_PRIME, 64, 80)
    for name in ('factors', 'sigma', 'flip', 'jitter', 'gray', 'blur',
                 'solarize', 'crop'):
        a = torch.cat([getattr(p, name) for p in one]).double()
        b = getattr(batch, name).double()
        se = (a.var(0) / n + b.var(0) / n).sqrt() + 1e-12
        assert ((a.mean(0) - b.mean(0)).abs() < 5 * se).all(), name
        if name in ('factors', 'sigma', 'crop'):
            ratio = a.var(0) / b.var(0)
            assert ((ratio > 0.85) & (ratio < 1.15)).all(), name


def test_cpu_and_device_paths_agree_in_distribution(cifar_folder):
    """Per-image pixel means and spreads of both paths' views, same images."""
    from mmbyol.datasets.transforms import read_rgb
    images = [read_rgb(str(p)) for p in sorted(cifar_folder.rglob('*.jpg'))]
    torch.manual_seed(6)
    cpu = BYOLViews(size=32, photometric=True)
    worker = BYOLViews(size=32, photometric=False)
    pre = BYOLDataPreprocessor(augment_on_device=True)  # no normalisation
    cpu_views = [[], []]
    dev_views = [[], []]
    for _ in range(2):
        batch = []
        for img in images:
            for k, v in enumerate(cpu.transform(dict(img=img))['img']):
                cpu_views[k].append(torch.from_numpy(v).permute(2, 0, 1))
            views = worker.transform(dict(img=img))['img']
            batch.append(dict(inputs=[torch.from_numpy(v).permute(2, 0, 1)
                                      for v in views]))
        out = pre(default_collate(batch), training=True)['inputs']
        for k in range(2):
            dev_views[k].append(out[k])
    for k in range(2):
        a = torch.stack(cpu_views[k]).float()
        b = torch.cat(dev_views[k]).round()  # the CPU path rounds to uint8
        n = len(a)
        for stat in (lambda t: t.mean(dim=(2, 3)),
                     lambda t: t.std(dim=(2, 3))):
            sa, sb = stat(a).double(), stat(b).double()
            se = (sa.var(0) / n + sb.var(0) / n).sqrt()
            assert ((sa.mean(0) - sb.mean(0)).abs() < 5 * se).all()
            ratio = sa.var(0) / sb.var(0)
            assert ((ratio > 0.75) & (ratio < 1.33)).all()


def test_one_image_path_equals_the_batched_ops(real_images):
    from mmbyol.augmentations import apply_photometric
    params = sample_view_params(8, BYOL_T_PRIME, 32, 32,
                                generator=torch.Generator().manual_seed(7))
    params.jitter[:] = True
    batched = apply_photometric(real_images, params)
    for i in range(8):
        one = apply_photometric(real_images[i:i + 1], params[i:i + 1])
        torch.testing.assert_close(one[0], batched[i], atol=1e-6, rtol=0)
