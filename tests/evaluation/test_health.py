import math

import pytest
import torch

from mmbyol.evaluation import mean_cosine, projection_std


def test_collapsed_is_zero():
    z = torch.randn(1, 64).repeat(32, 1) * torch.rand(32, 1).add(0.5)
    assert projection_std(z).item() == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize('d', [16, 256])
def test_random_is_inverse_sqrt_d(d):
    torch.manual_seed(0)
    z = torch.randn(4096, d) * 3.0
    assert projection_std(z).item() == pytest.approx(1 / math.sqrt(d),
                                                     rel=0.05)


def test_matches_reference_and_is_detached():
    torch.manual_seed(1)
    z = torch.randn(8, 5, requires_grad=True)
    unit = z.detach() / z.detach().norm(dim=1, keepdim=True)
    mean = unit.mean(0)
    ref = ((unit - mean)**2).mean(0).sqrt().mean()
    out = projection_std(z)
    assert not out.requires_grad
    torch.testing.assert_close(out, ref)
    with pytest.raises(ValueError):
        projection_std(torch.randn(2, 3, 4))


def test_mean_cosine():
    a = torch.tensor([[1., 0.], [0., 2.]])
    b = torch.tensor([[2., 0.], [1., 0.]])
    assert mean_cosine(a, b).item() == pytest.approx(0.5)
