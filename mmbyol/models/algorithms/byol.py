import copy
from typing import Dict, List, Optional, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.models.selfsup.base import BaseSelfSupervisor
from mmpretrain.structures import DataSample

from mmbyol.functional import (check_tau, ema_update_modules_,
                               pool_features, projection_std, symmetric_loss)
from mmbyol.registry import MODELS
from ..nonfinite_guard import guarded_train_step


def _build(cfg: Union[dict, nn.Module]) -> nn.Module:
    # Built with mmbyol's registry, which falls back to MMPretrain's: the
    # base class would use MMPretrain's and miss mmbyol's modules.
    return cfg if isinstance(cfg, nn.Module) else MODELS.build(cfg)


@MODELS.register_module()
class BYOL(BaseSelfSupervisor):
    r"""Bootstrap Your Own Latent (Grill et al., 2020).

    The online network is ``backbone`` (:math:`f_\theta`), ``neck``
    (projector :math:`g_\theta`) and ``head.predictor`` (:math:`q_\theta`).
    The target network ``target_backbone`` + ``target_neck``
    (:math:`f_\xi, g_\xi`) starts as an exact copy of the online encoder and
    projector, has ``requires_grad=False`` (so no optimizer built by mmbyol
    holds it) and moves only through :meth:`update_target`, which
    :class:`BYOLMomentumHook` calls once after every optimizer step.
    :meth:`loss` has no side effects.

    Args:
        backbone (dict): encoder config, any MMPretrain backbone.
        neck (dict): projector config, usually :class:`BYOLNeck`.
        head (dict): :class:`LatentPredictHead` config (predictor + loss).
        pretrained (str, optional): checkpoint to initialise from.
        linear_probe (dict, optional): ``dict(num_classes=C)`` adds
            DeepMind's online linear probe: a linear classifier on the
            detached pooled features of view 1, trained by its own
            cross-entropy ``loss_probe`` that never reaches the encoder. It
            runs only on batches whose data samples carry ``gt_label``.
        data_preprocessor (dict, optional): defaults to MMPretrain's
            ``SelfSupDataPreprocessor``.
        init_cfg (dict, optional): MMEngine initialisation config.
        max_nonfinite_steps (int): :meth:`train_step` skips a step whose
            loss is NaN/inf and stops the run after more than this many in
            a row. Defaults to 10.
        base_momentum (float, optional): MMPretrain's spelling of
            ``1 - base_tau``, accepted so that MMPretrain's BYOL configs run
            unchanged. mmbyol's runner then moves the target with
            :class:`BYOLMomentumHook` at ``base_tau = 1 - base_momentum``
            when the config names no momentum hook (see
            :attr:`base_tau`).
    """

    def __init__(self,
                 backbone: dict,
                 neck: dict,
                 head: dict,
                 linear_probe: Optional[dict] = None,
                 pretrained: Optional[str] = None,
                 data_preprocessor: Optional[Union[dict, nn.Module]] = None,
                 init_cfg: Optional[Union[List[dict], dict]] = None,
                 max_nonfinite_steps: int = 10,
                 base_momentum: Optional[float] = None) -> None:
        data_preprocessor = data_preprocessor or dict(
            type='SelfSupDataPreprocessor')
        super().__init__(
            backbone=_build(backbone),
            neck=_build(neck),
            head=_build(head),
            pretrained=pretrained,
            data_preprocessor=_build(data_preprocessor),
            init_cfg=init_cfg)
        self.max_nonfinite_steps = max_nonfinite_steps
        self.base_tau = None
        if base_momentum is not None:
            check_tau('1 - model.base_momentum', 1 - base_momentum)
            self.base_tau = 1 - base_momentum
        self.target_backbone = copy.deepcopy(self.backbone)
        self.target_neck = copy.deepcopy(self.neck)
        for module in (self.target_backbone, self.target_neck):
            module.requires_grad_(False)
        self.probe = None
        if linear_probe is not None:
            self.probe = nn.Linear(self.neck.in_channels,
                                   linear_probe['num_classes'])

    def train_step(self, data: Union[dict, tuple, list],
                   optim_wrapper) -> Dict[str, torch.Tensor]:
        """MMEngine's train step, but a NaN/inf loss skips the optimizer
        step, the target update and the BatchNorm statistics it would have
        written (:func:`mmbyol.models.nonfinite_guard.guarded_train_step`).
        """
        return guarded_train_step(self, self, data, optim_wrapper,
                                  self.max_nonfinite_steps)

    # ----------------------------------------------------------- the target
    @torch.no_grad()
    def update_target(self, tau: float) -> None:
        r"""One EMA step :math:`\xi \leftarrow \tau\xi + (1-\tau)\theta`.

        Parameters move by the EMA; buffers (BatchNorm statistics) are
        copied.  ``tau`` is a host float, so this never synchronises.
        """
        ema_update_modules_((self.target_backbone, self.target_neck),
                            (self.backbone, self.neck), tau)

    @torch.no_grad()
    def sync_target(self) -> None:
        """Make the target an exact copy of the online encoder/projector."""
        self.update_target(0.0)

    def init_weights(self) -> None:
        """Initialise the online network, then copy it into the target.

        The Runner calls this before loading a checkpoint, so a resumed
        target is not overwritten.
        """
        super().init_weights()
        self.sync_target()

    # ------------------------------------------------------------ forwards
    def forward(self,
                inputs: Union[torch.Tensor, List[torch.Tensor]],
                data_samples: Optional[List[DataSample]] = None,
                mode: str = 'tensor'):
        """``'loss'``: loss dict; ``'tensor'``: backbone feature maps;
        ``'predict'``: data samples carrying pooled online features."""
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        return super().forward(inputs, data_samples, mode)

    def loss(self, inputs: List[torch.Tensor],
             data_samples: Optional[List[DataSample]] = None,
             **kwargs) -> Dict[str, torch.Tensor]:
        r"""The symmetric BYOL loss of two views.

        :math:`\mathcal{L} = \ell(q(z_1), z'_2) + \ell(q(z_2), z'_1)`, each
        term a batch mean of :math:`2 - 2\cos`.  Each view goes through the
        networks on its own (per-view BatchNorm statistics).

        Returns:
            dict: ``loss`` (the total, which MMEngine optimises) and the two
            terms, detached, under names without "loss" so that MMEngine's
            ``parse_losses`` logs them without adding them again.
        """
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
            count = len(inputs) if isinstance(inputs, (list, tuple)) else '?'
            raise ValueError('BYOL.loss expects a list of two views, got '
                             f'{type(inputs).__name__} of {count} items; use '
                             'MultiView(num_views=2) in the pipeline')
        view1, view2 = inputs
        features = []  # the online encoder's output for view 1 (probe)

        def online(view):
            feats = self.backbone(view)
            features.append(feats)
            return pool_features(self.neck(feats))

        def target(view):
            return pool_features(self.target_neck(self.target_backbone(view)))

        out = symmetric_loss(online, target, self.head.loss, view1, view2)
        losses = dict(
            loss=out.total,
            pred1_target2=out.pred1_target2.detach(),
            pred2_target1=out.pred2_target1.detach(),
            # collapse monitor: ~1/sqrt(d) when healthy, 0 when collapsed
            proj_std=projection_std(out.online1),
            # mean cos(q(z), z') = 1 - (2 - 2cos) / 2, from the two terms
            pred_target_cos=1 - out.total.detach() / 4)
        if self.probe is not None:
            losses.update(self._probe_losses(features[0], data_samples))
        return losses

    def _probe_losses(self, feats, data_samples) -> Dict[str, torch.Tensor]:
        """The online linear probe on stop-gradient features (if labelled)."""
        if not data_samples or 'gt_label' not in data_samples[0]:
            return {}
        labels = torch.cat([s.gt_label for s in data_samples]).to(
            self.probe.weight.device)
        logits = self.probe(pool_features(feats).detach().float())
        return dict(
            loss_probe=F.cross_entropy(logits, labels),
            probe_acc=(logits.argmax(1) == labels).float().mean())

    def predict(self,
                inputs: torch.Tensor,
                data_samples: Optional[List[DataSample]] = None,
                **kwargs) -> List[DataSample]:
        """Pooled online-encoder features, one ``DataSample.feature`` each.

        A list of views (the training pipeline) uses the first view.
        """
        if isinstance(inputs, (list, tuple)):
            inputs = inputs[0]
        feats = pool_features(self.backbone(inputs))
        if data_samples is None:
            data_samples = [DataSample() for _ in range(feats.shape[0])]
        for sample, feat in zip(data_samples, feats):
            sample.set_field(feat, 'feature', field_type='metainfo')
        return data_samples
