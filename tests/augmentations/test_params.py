"""The sampler: the paper's probabilities and ranges, drawn per sample."""
import math

import numpy as np
import pytest
import torch
from torchvision.transforms import RandomResizedCrop

from mmbyol.augmentations import BYOL_T, BYOL_T_PRIME, sample_view_params

N = 20000


def within_binomial(flags: torch.Tensor, p: float, z: float = 5.0) -> bool:
    """|p_hat - p| inside z standard errors (exact for p in {0, 1})."""
    p_hat = flags.float().mean().item()
    return abs(p_hat - p) <= z * math.sqrt(p * (1 - p) / flags.numel())


@pytest.mark.parametrize('spec,blur,solarize', [(BYOL_T, 1.0, 0.0),
                                                (BYOL_T_PRIME, 0.1, 0.2)])
def test_probabilities_within_binomial_bounds(spec, blur, solarize):
    g = torch.Generator().manual_seed(1)
    p = sample_view_params(N, spec, 224, 224, generator=g)
    assert within_binomial(p.flip, 0.5)
    assert within_binomial(p.jitter, 0.8)
    assert within_binomial(p.gray, 0.2)
    assert within_binomial(p.blur, blur)
    assert within_binomial(p.solarize, solarize)


def test_t_and_t_prime_differ_only_in_blur_and_solarize():
    t, t2 = vars(BYOL_T), vars(BYOL_T_PRIME)
    assert {k for k in t if t[k] != t2[k]} == {'blur_prob', 'solarize_prob'}
    assert (BYOL_T.blur_prob, BYOL_T_PRIME.blur_prob) == (1.0, 0.1)
    assert (BYOL_T.solarize_prob, BYOL_T_PRIME.solarize_prob) == (0.0, 0.2)


def test_jitter_factors_and_random_order():
    p = sample_view_params(N, BYOL_T, generator=torch.Generator()
                           .manual_seed(2))
    lo = torch.tensor([0.6, 0.6, 0.8, -0.1])
    hi = torch.tensor([1.4, 1.4, 1.2, 0.1])
    assert ((p.factors >= lo) & (p.factors <= hi)).all()
    # uniform: mean at the centre within 5 standard errors
    sd = (hi - lo) / math.sqrt(12) / math.sqrt(N)
    assert ((p.factors.mean(0) - (lo + hi) / 2).abs() < 5 * sd).all()
    # every permutation of the 4 ops, each with probability 1/24
    assert (p.order.sort(1).values == torch.arange(4)).all()
    codes = (p.order * torch.tensor([64, 16, 4, 1])).sum(1)
    counts = torch.bincount(codes, minlength=256)[codes.unique()]
    assert len(counts) == 24
    assert all(abs(c / N - 1 / 24) < 5 * math.sqrt(1 / 24 * 23 / 24 / N)
               for c in counts.tolist())
    # dm_exact brightness is additive around 0
    dm = sample_view_params(1000, BYOL_T, convention='dm_exact')
    assert dm.factors[:, 0].abs().max() <= 0.4


def test_draws_are_independent_per_sample():
    p = sample_view_params(N, BYOL_T, 256, 256,
                           generator=torch.Generator().manual_seed(3))
    for values in (p.factors[:, 0], p.sigma, p.crop[:, 2].float(),
                   p.flip.float()):
        a, b = values[:-1], values[1:]
        corr = torch.corrcoef(torch.stack([a, b]))[0, 1].item()
        assert abs(corr) < 5 / math.sqrt(N)
    assert p.crop.unique(dim=0).shape[0] > N // 2


def crop_boxes(H: int, W: int, n: int, **kwargs) -> torch.Tensor:
    """``n`` crop boxes ``[top, left, h, w]`` of T (area 0.08-1, aspect
    3/4-4/3) for an ``H x W`` image."""
    return sample_view_params(n, BYOL_T, H, W, **kwargs).crop


def test_crop_boxes_follow_torchvision_distribution():
    torch.manual_seed(4)
    H, W, n = 300, 400, 4000
    boxes = crop_boxes(H, W, n, generator=torch.Generator().manual_seed(5))
    top, left, h, w = boxes.T
    assert (top >= 0).all() and (left >= 0).all()
    assert (top + h <= H).all() and (left + w <= W).all()
    ref = torch.tensor([RandomResizedCrop.get_params(
        torch.empty(3, H, W), [0.08, 1.0], [3 / 4, 4 / 3]) for _ in range(n)])
    for ours, theirs in ((h * w / (H * W), ref[:, 2] * ref[:, 3] / (H * W)),
                         ((w / h).log(), (ref[:, 3] / ref[:, 2]).log())):
        ours, theirs = ours.double(), theirs.double()
        se = math.sqrt(ours.var() / n + theirs.var() / n)
        assert abs(ours.mean() - theirs.mean()) < 5 * se
        assert 0.85 < ours.var() / theirs.var() < 1.15


def test_dm_exact_crop_is_a_single_clipped_draw():
    H, W, n = 100, 300, 4000
    boxes = crop_boxes(H, W, n, convention='dm_exact')
    top, left, h, w = boxes.T
    assert (top + h <= H).all() and (left + w <= W).all()
    # a 1:3 image: tall boxes are clipped to the full height, never
    # re-drawn, so many boxes have h == H (torchvision would retry)
    assert (h == H).float().mean() > 0.2
    tv = crop_boxes(H, W, n)
    assert (tv[:, 2] == H).float().mean() < (h == H).float().mean()


def _numpy_boxes(H, W, u, area, ratio, convention):
    """The crop boxes as whole-array numpy: an independent reference."""
    tries = (u.shape[1] - 2) // 2
    scale = area[0] + (area[1] - area[0]) * u[:, :tries]
    log_r = math.log(ratio[0]) + (math.log(ratio[1]) - math.log(
        ratio[0])) * u[:, tries:2 * tries]
    target = scale * (H * W)[:, None]
    w = np.round(np.sqrt(target * np.exp(log_r)))
    h = np.round(np.sqrt(target / np.exp(log_r)))
    if convention == 'dm_exact':
        h, w = np.minimum(h[:, 0], H), np.minimum(w[:, 0], W)
        fallback = np.zeros(len(u), bool)
    else:
        ok = (w > 0) & (w <= W[:, None]) & (h > 0) & (h <= H[:, None])
        first = ok.argmax(axis=1)[:, None]
        h = np.take_along_axis(h, first, 1)[:, 0]
        w = np.take_along_axis(w, first, 1)[:, 0]
        fallback = ~ok.any(axis=1)
        aspect = W / H
        h = np.where(fallback, np.where(aspect < ratio[0],
                                        np.round(W / ratio[0]), H), h)
        w = np.where(fallback, np.where(aspect > ratio[1],
                                        np.round(H * ratio[1]), W), w)
    top = np.minimum(np.floor(u[:, -2] * (H - h + 1)), H - h)
    left = np.minimum(np.floor(u[:, -1] * (W - w + 1)), W - w)
    top = np.where(fallback, np.floor((H - h) / 2), top)
    left = np.where(fallback, np.floor((W - w) / 2), left)
    return np.stack([top, left, h, w], axis=1).astype(np.int64), fallback


@pytest.mark.parametrize('convention', ['torchvision', 'dm_exact'])
def test_crop_boxes_equal_a_numpy_reference(convention):
    from mmbyol.augmentations.params import _crop_boxes, _crop_draws
    rng = np.random.default_rng(0)
    n = 5000
    # ordinary, tall, wide and tiny images: the tall and wide ones with
    # small areas exhaust torchvision's ten tries and take the fallback
    H = rng.choice([375.0, 4000.0, 20.0, 3.0], n)
    W = rng.choice([500.0, 20.0, 4000.0, 2.0], n)
    u = rng.random((n, _crop_draws(convention)))
    for area in ((0.08, 1.0), (0.9, 1.0)):
        ours = _crop_boxes(H, W, u, area, (3 / 4, 4 / 3), convention)
        ref, fallback = _numpy_boxes(H, W, u, area, (3 / 4, 4 / 3),
                                     convention)
        np.testing.assert_array_equal(ours, ref)
        if convention == 'torchvision':  # both branches were taken
            assert fallback.any() and not fallback.all()
