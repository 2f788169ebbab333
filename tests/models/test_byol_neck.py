import pytest
import torch

from mmbyol.models import BYOLNeck, LatentPredictHead
from mmbyol.functional import byol_loss


def test_neck_is_the_papers_mlp_with_defaults():
    neck = BYOLNeck(in_channels=2048)
    layers = [type(m).__name__ for m in neck.mlp]
    assert layers == ['Linear', 'BatchNorm1d', 'ReLU', 'Linear']
    assert neck.mlp[0].out_features == 4096
    assert neck.mlp[3].out_features == 256


def test_neck_pools_4d_maps_and_accepts_2d_and_tuples():
    neck = BYOLNeck(in_channels=8, hid_channels=16, out_channels=4).eval()
    maps = torch.randn(2, 8, 3, 3)
    out = neck((maps, ))
    torch.testing.assert_close(out, neck(maps.mean((2, 3))))
    assert out.shape == (2, 4)


def test_neck_rejects_wrong_width_with_a_clear_message():
    neck = BYOLNeck(in_channels=8, hid_channels=16, out_channels=4)
    with pytest.raises(ValueError, match='in_channels=8'):
        neck(torch.randn(2, 5))


def test_head_loss_is_batch_mean_of_byol_loss():
    torch.manual_seed(0)
    head = LatentPredictHead(
        predictor=dict(type='BYOLNeck', in_channels=4, hid_channels=8,
                       out_channels=4))
    z, t = torch.randn(6, 4), torch.randn(6, 4)
    expected = byol_loss(head.predictor(z), t).mean()
    torch.testing.assert_close(head.loss(z, t), expected)
