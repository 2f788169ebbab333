from typing import Sequence, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from mmbyol.functional import pool_features
from mmbyol.registry import MODELS


@MODELS.register_module()
class BYOLNeck(BaseModule):
    """BYOL's projector / predictor MLP: Linear -> BN -> ReLU -> Linear.

    The paper (Sec. 3.3): "a multi-layer perceptron (MLP) ... consisting in a
    linear layer with output size 4096 followed by batch normalization,
    rectified linear units (ReLU), and a final linear layer with output
    dimension 256."  The same MLP with ``in_channels=256`` is the predictor.

    Accepts a tensor or a backbone's tuple of outputs (the last one is
    used), pooled by :func:`mmbyol.functional.pool_features`: a ResNet's
    ``(N, C, H, W)`` maps are averaged over space, a ViT's ``(N, C)`` class
    token is used as it is.

    Args:
        in_channels (int): input feature size (2048 for ResNet-50).
        hid_channels (int): hidden size. Defaults to 4096 (paper).
        out_channels (int): output size. Defaults to 256 (paper).
        init_cfg (dict, optional): MMEngine initialisation config.
    """

    def __init__(self,
                 in_channels: int,
                 hid_channels: int = 4096,
                 out_channels: int = 256,
                 init_cfg: Union[dict, None] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.in_channels = in_channels
        self.mlp = nn.Sequential(
            nn.Linear(in_channels, hid_channels),
            nn.BatchNorm1d(hid_channels),
            nn.ReLU(inplace=True),
            nn.Linear(hid_channels, out_channels),
        )

    def forward(
        self, x: Union[torch.Tensor, Sequence[torch.Tensor]]
    ) -> torch.Tensor:
        """Map features ``(N, C[, H, W])`` to ``(N, out_channels)``."""
        x = pool_features(x)
        if x.shape[1] != self.in_channels:
            raise ValueError(
                f'BYOLNeck expects features with in_channels='
                f'{self.in_channels}, got shape {tuple(x.shape)}; set '
                '`in_channels` in the neck/head config to the backbone\'s '
                'output size')
        return self.mlp(x)
