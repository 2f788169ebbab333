"""BYOL around any ``nn.Module``, for a plain PyTorch training loop."""
import copy
import warnings
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn as nn

from mmbyol.augmentations import make_byol_views
from mmbyol.ema_schedule import EMASchedule
from mmbyol.functional import (byol_loss, ema_update_modules_,
                               symmetric_loss)
from mmbyol.models.necks.byol_neck import BYOLNeck
from . import runner_checkpoint
from .hidden_layer import LayerSpec, represent

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def _leaves(grad_fn) -> set:
    """ids of the leaf tensors an autograd graph reaches (no backward run)."""
    seen, stack, leaves = set(), [grad_fn], set()
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        if hasattr(node, 'variable'):  # AccumulateGrad
            leaves.add(id(node.variable))
        stack.extend(fn for fn, _ in node.next_functions)
    return leaves


class BYOLLearner(nn.Module):
    r"""Bootstrap Your Own Latent (Grill et al., 2020) around any network.

    ``loss = learner(images)`` draws the paper's two augmented views of every
    image (:func:`mmbyol.augmentations.make_byol_views`, per sample, on the
    images' device), normalises them and returns the symmetric loss
    :math:`\ell(q(z_1), z'_2) + \ell(q(z_2), z'_1)` of
    :func:`mmbyol.functional.byol_loss`, each term a batch mean of
    :math:`2 - 2\cos`, exactly as the Runner's ``BYOL.loss``.  The target
    moves by :math:`\xi \leftarrow \tau_k\xi + (1-\tau_k)\theta` with the
    cosine schedule :func:`mmbyol.functional.cosine_tau` when
    :meth:`update_target` runs: call it after every ``optimizer.step()``, or
    let :meth:`attach` do so.

    All parameters (projector and predictor included) exist when the
    constructor returns: one dry forward pass measures the representation
    size, so an optimizer built next sees every trainable parameter.

    Args:
        net (nn.Module): the encoder :math:`f_\theta` (torchvision, timm,
            MMPretrain backbone, ...); trained in place, ``learner.net``.
        image_size (int): side of the square views.
        hidden_layer (str | int | None): where the representation is read:
            a module name (``'avgpool'``), an index among ``net``'s direct
            children (``-2``, the default: the module before a classifier,
            as in torchvision/timm ResNets) or ``None`` for ``net``'s own
            output (MMPretrain backbones).  ``(N, C, H, W)`` outputs are
            averaged over space.
        projection_size (int): projector/predictor output, paper 256.
        projection_hidden_size (int): their hidden size, paper 4096.
        total_steps (int, optional): :math:`K`, the optimizer steps of the
            whole run, needed by :meth:`update_target`.
        base_tau (float): :math:`\tau_{base}`, paper 0.996.
        end_tau (float): :math:`\tau_{end}`, paper 1.
        mean, std (sequence of 3 floats): normalisation of the ``[0, 1]``
            views, ImageNet's by default.
        convention (str): passed to ``make_byol_views``.
        channels_last (bool): feed the networks ``channels_last`` tensors.
    """

    def __init__(self,
                 net: nn.Module,
                 image_size: int,
                 hidden_layer: LayerSpec = -2,
                 projection_size: int = 256,
                 projection_hidden_size: int = 4096,
                 total_steps: Optional[int] = None,
                 base_tau: float = 0.996,
                 end_tau: float = 1.0,
                 mean: Sequence[float] = IMAGENET_MEAN,
                 std: Sequence[float] = IMAGENET_STD,
                 convention: str = 'torchvision',
                 channels_last: bool = False) -> None:
        super().__init__()
        self.schedule = EMASchedule(self._move_target, total_steps,
                                    base_tau, end_tau)
        self.image_size = int(image_size)
        self.hidden_layer = hidden_layer
        self.convention = convention
        self.channels_last = bool(channels_last)

        self.net = net
        dim, self.unused_parameters = self._probe()
        device = self._device()
        self.projector = BYOLNeck(dim, projection_hidden_size,
                                  projection_size).to(device)
        self.predictor = BYOLNeck(projection_size, projection_hidden_size,
                                  projection_size).to(device)
        self.target_net = copy.deepcopy(net).requires_grad_(False)
        self.target_projector = copy.deepcopy(self.projector).requires_grad_(
            False)
        self.register_buffer('mean', torch.tensor(mean, device=device).view(
            1, -1, 1, 1), persistent=False)
        self.register_buffer('std', torch.tensor(std, device=device).view(
            1, -1, 1, 1), persistent=False)

    def _device(self) -> torch.device:
        param = next(self.net.parameters(), None)
        return param.device if param is not None else torch.device('cpu')

    def _probe(self) -> Tuple[int, List[str]]:
        """One dry forward pass in eval mode (no BatchNorm statistics move):
        the representation size, and the names of ``net``'s trainable
        parameters that the representation does not depend on (e.g. a
        classifier after ``hidden_layer``: they get no gradient, so DDP
        needs ``find_unused_parameters=True``)."""
        param = next(self.net.parameters(), None)
        x = torch.zeros(2, 3, self.image_size, self.image_size,
                        device=param.device if param is not None else None,
                        dtype=param.dtype if param is not None else None)
        was_training = self.net.training
        self.net.eval()
        try:
            with torch.enable_grad(), torch.autocast(x.device.type,
                                                     enabled=False):
                rep = represent(self.net, self.hidden_layer,
                                x.contiguous(memory_format=self.memory_format))
        finally:
            self.net.train(was_training)
        used = _leaves(rep.grad_fn)
        unused = [n for n, p in self.net.named_parameters()
                  if p.requires_grad and id(p) not in used]
        return rep.shape[1], unused

    # ------------------------------------------------------------- inputs
    @property
    def memory_format(self) -> torch.memory_format:
        # (a bool attribute: torch.save cannot pickle a memory_format)
        return (torch.channels_last
                if self.channels_last else torch.contiguous_format)

    def normalize(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 or ``[0, 1]`` float images -> normalised network input."""
        if images.dtype == torch.uint8:
            images = images.float().div_(255)
        x = (images.float() - self.mean) / self.std
        return x.contiguous(memory_format=self.memory_format)

    def views(self, images: torch.Tensor,
              generator: Optional[torch.Generator] = None
              ) -> Tuple[torch.Tensor, torch.Tensor]:
        """The two augmented, normalised views of every image, drawn per
        sample in fp32 on the images' device (outside any autocast)."""
        with torch.autocast(images.device.type, enabled=False):
            view1, view2 = make_byol_views(
                images, self.image_size, convention=self.convention,
                generator=generator)
            return self.normalize(view1), self.normalize(view2)

    # ------------------------------------------------------------ forwards
    def forward(self, images: torch.Tensor,
                generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """The symmetric BYOL loss of a batch of images ``(N, C, H, W)``."""
        return self.loss_from_views(*self.views(images, generator))

    def loss_from_views(self, view1: torch.Tensor,
                        view2: torch.Tensor) -> torch.Tensor:
        """The symmetric loss of two normalised views
        (:func:`mmbyol.functional.symmetric_loss`); no side effects
        (BatchNorm statistics aside).  Each view runs on its own."""
        return symmetric_loss(
            lambda v: self.projector(represent(self.net, self.hidden_layer,
                                               v)),
            lambda v: self.target_projector(
                represent(self.target_net, self.hidden_layer, v)),
            lambda z, t: byol_loss(self.predictor(z), t).mean(),
            view1, view2).total

    def embed(self, images: torch.Tensor,
              normalize: bool = True) -> torch.Tensor:
        """The online representation ``(N, D)`` of un-augmented images.

        Call under ``torch.no_grad()`` and after ``.eval()`` to evaluate.
        """
        x = self.normalize(images) if normalize else images
        return represent(self.net, self.hidden_layer, x)

    # ---------------------------------------------------------- the target
    @property
    def steps(self) -> int:
        """Optimizer steps the target has followed so far."""
        return self.schedule.steps

    @steps.setter
    def steps(self, value: int) -> None:
        self.schedule.steps = int(value)

    @property
    def tau(self) -> float:
        """The tau of the latest target update."""
        return self.schedule.tau

    @tau.setter
    def tau(self, value: float) -> None:
        self.schedule.tau = float(value)

    @property
    def total_steps(self) -> Optional[int]:
        return self.schedule.total_steps

    @torch.no_grad()
    def _move_target(self, tau: float) -> None:
        ema_update_modules_((self.target_net, self.target_projector),
                            (self.net, self.projector), tau)

    def update_target(self, tau: Optional[float] = None) -> float:
        r"""One EMA step of the target, then ``steps += 1``; returns tau.

        ``tau`` defaults to ``cosine_tau(steps, total_steps, base_tau,
        end_tau)``.  Parameters move by the EMA; buffers (BatchNorm
        statistics) are copied, as in the Runner's ``BYOL.update_target``.
        """
        if self.schedule.attached:
            warnings.warn('update_target() called by hand on a learner that '
                          'attach() already updates after every optimizer '
                          'step: the target now moves twice per step')
        if tau is None and self.total_steps is None:
            raise ValueError('update_target() needs total_steps (the number '
                             'of optimizer steps of the run) at '
                             'construction, or an explicit tau')
        return self.schedule.step(tau)

    def attach(self, optimizer: torch.optim.Optimizer):
        """Move the target after every real ``optimizer.step()`` (once per
        step under gradient accumulation; never for a step that AMP's
        ``GradScaler`` skips).  Returns the removable hook handle."""
        if self.total_steps is None:
            raise ValueError('attach() needs total_steps at construction')
        return self.schedule.attach(optimizer)

    def detach(self) -> None:
        """Stop the automatic target update set up by :meth:`attach`."""
        self.schedule.detach()

    # -------------------------------------------------------------- state
    def get_extra_state(self) -> dict:
        """The EMA step counter, saved with ``state_dict()`` (key
        ``_extra_state``), in the Runner checkpoint's ``byol_momentum``
        format."""
        return self.schedule.state_dict()

    def set_extra_state(self, state: dict) -> None:
        self.schedule.load_state_dict(state)

    def to_runner_checkpoint(self) -> dict:
        """This learner as a Runner ``BYOL`` checkpoint dict (``torch.save``
        it; keys mapped as in :mod:`mmbyol.learner.runner_checkpoint`)."""
        return runner_checkpoint.to_runner_checkpoint(self)

    def load_runner_checkpoint(self, checkpoint, strict: bool = True) -> list:
        """Load a Runner ``BYOL`` checkpoint (path or dict) saved for the
        same encoder class; returns the checkpoint keys left unused."""
        return runner_checkpoint.load_runner_checkpoint(
            self, checkpoint, strict)
