r"""Collapse signals for BYOL training (pure functions, no side effects).

BYOL can collapse to a constant representation; the loss alone does not
show it (a constant output has loss 0). The standard signal is the spread of
the l2-normalised projections over the batch:

.. math::

    \mathrm{std}(z) = \frac{1}{d} \sum_{j=1}^{d}
        \operatorname{std}_i\left(\frac{z_{ij}}{\lVert z_i \rVert_2}\right)

It is 0 for collapsed outputs (every row the same direction) and about
:math:`1/\sqrt{d}` for isotropic (healthy) ones, since each coordinate of a
random unit vector in :math:`\mathbb{R}^d` has variance :math:`1/d`.
"""
import torch
import torch.nn.functional as F


@torch.no_grad()
def projection_std(z: torch.Tensor) -> torch.Tensor:
    """Mean per-dimension std of the l2-normalised rows of ``z``.

    Args:
        z (Tensor): ``(N, d)`` projections (any float dtype, any device).

    Returns:
        Tensor: a 0-d float32 tensor on ``z``'s device, detached. Uses the
        population std (``correction=0``), so a batch of one gives 0, not
        NaN.
    """
    if z.dim() != 2:
        raise ValueError(
            f'projection_std expects (N, d), got {tuple(z.shape)}')
    unit = F.normalize(z.detach().float(), dim=1)
    return unit.std(dim=0, correction=0).mean()


@torch.no_grad()
def mean_cosine(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Mean row-wise cosine similarity of two ``(N, d)`` tensors (detached)."""
    return F.cosine_similarity(a.detach().float(), b.detach().float(),
                               dim=1).mean()
