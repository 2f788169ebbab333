r"""BYOL's mathematics as pure functions (Grill et al., 2020).

The three equations, each in one place: :func:`byol_loss` (Eq. 2),
:func:`ema_update_` (Eq. 1) and :func:`cosine_tau` (Sec. 3.2); and what
surrounds them: :func:`check_tau` (the range of tau),
:func:`projection_std` (the collapse signal) and :func:`pool_features`
(an encoder's output as one vector per image).  The Runner path and the
plain-PyTorch learner both call these functions, so both train the same
mathematics.
"""
import math
from typing import Callable, NamedTuple, Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmbyol.utils.errors import ConfigError


def byol_loss(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    r"""Per-sample BYOL regression loss (paper, Eq. 2).

    .. math::
        \mathcal{L}_{\theta,\xi} = \left\| \bar{q}_\theta(z_\theta)
        - \bar{z}'_\xi \right\|_2^2
        = 2 - 2 \frac{\langle q_\theta(z_\theta), z'_\xi \rangle}
        {\|q_\theta(z_\theta)\|_2 \, \|z'_\xi\|_2}

    The target is detached: no gradient ever flows into the target network.
    The result is computed in fp32 whatever the autocast dtype.

    Args:
        prediction (Tensor): online predictions :math:`q_\theta(z_\theta)`,
            shape ``(N, D)``.
        target (Tensor): target projections :math:`z'_\xi`, shape ``(N, D)``.

    Returns:
        Tensor: shape ``(N,)``, each value in ``[0, 4]``.
    """
    if prediction.shape != target.shape or prediction.dim() != 2:
        raise ValueError('byol_loss expects two (N, D) tensors of the same '
                         f'shape, got {tuple(prediction.shape)} and '
                         f'{tuple(target.shape)}')
    p = F.normalize(prediction.float(), dim=1)
    z = F.normalize(target.detach().float(), dim=1)
    return 2 - 2 * (p * z).sum(dim=1)


class SymmetricLoss(NamedTuple):
    """The terms of :func:`symmetric_loss`."""
    total: torch.Tensor
    pred1_target2: torch.Tensor
    pred2_target1: torch.Tensor
    online1: torch.Tensor  # z of view 1 (for the collapse signal)


def symmetric_loss(online: Callable[[torch.Tensor], torch.Tensor],
                   target: Callable[[torch.Tensor], torch.Tensor],
                   regress: Callable[[torch.Tensor, torch.Tensor],
                                     torch.Tensor],
                   view1: torch.Tensor,
                   view2: torch.Tensor) -> SymmetricLoss:
    r"""BYOL's objective over two views (paper, Sec. 3.1).

    .. math::
        \mathcal{L}^{BYOL} = \ell(q_\theta(z_1), z'_2)
        + \ell(q_\theta(z_2), z'_1)

    Each view goes through the networks on its own (per-view BatchNorm
    statistics); the target runs under ``torch.no_grad()``.

    Args:
        online (callable): view -> online projection :math:`z_\theta`.
        target (callable): view -> target projection :math:`z'_\xi`.
        regress (callable): ``(z, z')`` -> the scalar loss of predicting
            :math:`z'` from :math:`z`, e.g. the batch mean of
            :func:`byol_loss` of the predictor's output.
        view1, view2 (Tensor): the two augmented views of one batch.
    """
    z1, z2 = online(view1), online(view2)
    with torch.no_grad():
        t1, t2 = target(view1), target(view2)
    term12, term21 = regress(z1, t2), regress(z2, t1)
    return SymmetricLoss(term12 + term21, term12, term21, z1)


def cosine_tau(step: int,
               total_steps: int,
               base_tau: float = 0.996,
               end_tau: float = 1.0) -> float:
    r"""The target decay rate after ``step`` optimizer steps (paper, Sec. 3.2).

    .. math::
        \tau_k = \tau_{end} - (\tau_{end} - \tau_{base})
        \frac{\cos(\pi k / K) + 1}{2}

    With the paper's :math:`\tau_{end} = 1` this is
    :math:`1 - (1 - \tau_{base})(\cos(\pi k/K) + 1)/2`.  Computed on the
    host as a Python float: no tensor, no device synchronisation.  Steps past
    ``total_steps`` keep ``end_tau``.

    Args:
        step (int): optimizer steps taken so far, :math:`k \ge 0`.
        total_steps (int): :math:`K`, total optimizer steps of the run.
        base_tau (float): :math:`\tau_{base}`; the paper uses 0.996.
        end_tau (float): :math:`\tau_{end}`; the paper uses 1.
    """
    if total_steps <= 0:
        raise ValueError(f'total_steps must be positive, got {total_steps}')
    if step < 0:
        raise ValueError(f'step must be >= 0, got {step}')
    progress = min(step, total_steps) / total_steps
    return end_tau - (end_tau - base_tau) * (math.cos(math.pi * progress) +
                                             1) / 2


def check_tau(name: str, value: float) -> None:
    """Refuse a decay rate outside [0.9, 1] with a message naming it.

    BYOL's tau is the weight of the *old* target (paper: 0.996). MMEngine's
    and MMPretrain's ``momentum`` is ``1 - tau``; where ``1 - value`` is a
    valid tau the message suggests that conversion.

    Raises:
        ConfigError: ``value`` is not in [0.9, 1].
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f'{name}={value!r} is not a number; BYOL\'s tau is '
                          'a float in [0.9, 1] (paper: 0.996)')
    if 0.9 <= value <= 1.0:
        return
    hint = ''
    if 0.9 <= 1 - value <= 1.0:
        hint = (f' A value written as MMEngine/MMPretrain "momentum" '
                f'(1 - tau) converts to {name}={1 - value:g}.')
    raise ConfigError(
        f'{name}={value:g} is outside [0.9, 1]: BYOL\'s tau is the weight of '
        f'the old target (paper: 0.996).{hint}')


@torch.no_grad()
def ema_update_(target: Sequence[torch.Tensor],
                online: Sequence[torch.Tensor], tau: float) -> None:
    r"""Move the target weights towards the online ones, in place (Eq. 1).

    .. math::
        \xi \leftarrow \tau \xi + (1 - \tau) \theta

    One fused ``torch._foreach_lerp_`` over the whole list (``lerp`` computes
    :math:`\xi + (1-\tau)(\theta - \xi)`, the same quantity), with ``tau``
    a host float: no per-parameter Python loop, no host-device sync.

    Args:
        target (Sequence[Tensor]): target parameters :math:`\xi`.
        online (Sequence[Tensor]): online parameters :math:`\theta`, in the
            same order and of the same shapes.
        tau (float): decay rate in ``[0, 1]``.
    """
    if len(target) != len(online):
        raise ValueError(f'{len(target)} target tensors but {len(online)} '
                         'online tensors')
    if target:
        torch._foreach_lerp_(list(target), list(online), 1.0 - float(tau))


@torch.no_grad()
def copy_buffers_(target: Sequence[torch.Tensor],
                  online: Sequence[torch.Tensor]) -> None:
    """Copy buffers (BatchNorm running statistics) from online to target."""
    if len(target) != len(online):
        raise ValueError(f'{len(target)} target buffers but {len(online)} '
                         'online buffers')
    if target:
        torch._foreach_copy_(list(target), list(online))


@torch.no_grad()
def ema_update_modules_(target: Sequence[nn.Module],
                        online: Sequence[nn.Module], tau: float) -> None:
    r"""The target network's step: :func:`ema_update_` on the parameters of
    ``target`` towards those of ``online`` (module by module, in order) and
    :func:`copy_buffers_` for their buffers (BatchNorm statistics)."""
    ema_update_([p for m in target for p in m.parameters()],
                [p for m in online for p in m.parameters()], tau)
    copy_buffers_([b for m in target for b in m.buffers()],
                  [b for m in online for b in m.buffers()])


@torch.no_grad()
def projection_std(z: torch.Tensor) -> torch.Tensor:
    r"""BYOL's collapse signal: the mean per-dimension std of the
    l2-normalised rows of ``z``.

    .. math::
        \mathrm{std}(z) = \frac{1}{d} \sum_{j=1}^{d}
        \operatorname{std}_i\left(\frac{z_{ij}}{\lVert z_i \rVert_2}\right)

    A constant output has loss 0, so the loss alone does not show collapse;
    this is 0 for collapsed outputs (every row the same direction) and about
    :math:`1/\sqrt{d}` for isotropic ones, since each coordinate of a
    random unit vector in :math:`\mathbb{R}^d` has variance :math:`1/d`.

    Args:
        z (Tensor): ``(N, d)`` projections (any float dtype, any device).

    Returns:
        Tensor: a 0-d float32 tensor on ``z``'s device, detached. The
        population std (``correction=0``): a batch of one gives 0, not NaN.
    """
    if z.dim() != 2:
        raise ValueError(
            f'projection_std expects (N, d), got {tuple(z.shape)}')
    unit = F.normalize(z.detach().float(), dim=1)
    return unit.std(dim=0, correction=0).mean()


def pool_features(feats: Union[torch.Tensor, Sequence[torch.Tensor]]
                  ) -> torch.Tensor:
    """An encoder's output as ``(N, C)``: the last of a tuple of outputs,
    4-D maps averaged over space, anything else flattened."""
    x = feats[-1] if isinstance(feats, (tuple, list)) else feats
    return x.mean(dim=(2, 3)) if x.dim() == 4 else x.flatten(1)
