from typing import Union

import torch
from mmengine.model import BaseModule

from mmbyol.functional import byol_loss
from mmbyol.registry import MODELS


@MODELS.register_module()
class LatentPredictHead(BaseModule):
    r"""BYOL's predictor :math:`q_\theta` and its regression loss.

    :meth:`loss` returns the batch mean of
    :math:`2 - 2\cos(q_\theta(z_\theta), z'_\xi)`, one of the two symmetric
    terms of the paper's objective; each value lies in ``[0, 4]``.

    Args:
        predictor (dict): config of the predictor MLP, by default
            :class:`BYOLNeck` with ``in_channels=256``.
        init_cfg (dict, optional): MMEngine initialisation config.
    """

    def __init__(self,
                 predictor: dict,
                 init_cfg: Union[dict, None] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.predictor = MODELS.build(predictor)

    def loss(self, online_projection: torch.Tensor,
             target_projection: torch.Tensor) -> torch.Tensor:
        """Predict the target projection from the online one; scalar loss."""
        prediction = self.predictor(online_projection)
        return byol_loss(prediction, target_projection).mean()
