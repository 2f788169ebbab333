r"""BYOL's three equations, each in one place (Grill et al., 2020).

Every other part of mmbyol, the Runner path and the plain-PyTorch learner
alike, calls these functions, so both train the same mathematics.
"""
import math
from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F


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
