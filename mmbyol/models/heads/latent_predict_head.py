from typing import Optional, Union

import torch
from mmengine.model import BaseModule

from mmbyol.functional import byol_loss, pool_features
from mmbyol.registry import MODELS


@MODELS.register_module()
class LatentPredictHead(BaseModule):
    r"""BYOL's predictor :math:`q_\theta` and its regression loss.

    :meth:`loss` returns the batch mean of
    :math:`2 - 2\cos(q_\theta(z_\theta), z'_\xi)`, one of the two symmetric
    terms of the paper's objective; each value lies in ``[0, 4]``.

    The arguments are MMPretrain's (``loss``, ``predictor``), so its BYOL
    configs build this head unchanged: the predictor may be any neck
    (mmbyol's :class:`BYOLNeck` or MMPretrain's ``NonLinearNeck``, which
    takes and returns tuples), and ``loss`` any loss module called as
    ``loss(prediction, target)`` (MMPretrain's ``CosineSimilarityLoss``
    computes the same :math:`2 - 2\cos`).

    Args:
        predictor (dict): config of the predictor MLP, by default
            :class:`BYOLNeck` with ``in_channels=256``.
        loss (dict, optional): config of the loss module; None (default) is
            :func:`mmbyol.functional.byol_loss`, computed in fp32.
        init_cfg (dict, optional): MMEngine initialisation config.
    """

    def __init__(self,
                 predictor: dict,
                 loss: Optional[dict] = None,
                 init_cfg: Union[dict, None] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.predictor = MODELS.build(predictor)
        self.loss_module = MODELS.build(loss) if loss is not None else None

    def loss(self, online_projection: torch.Tensor,
             target_projection: torch.Tensor) -> torch.Tensor:
        """Predict the target projection from the online one; scalar loss."""
        prediction = pool_features(self.predictor((online_projection, )))
        target = target_projection.detach()
        if self.loss_module is None:
            return byol_loss(prediction, target).mean()
        return self.loss_module(prediction, target)
