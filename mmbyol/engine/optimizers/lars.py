from typing import Iterable, List

import torch
from torch.optim.optimizer import Optimizer

from mmbyol.registry import OPTIMIZERS


@OPTIMIZERS.register_module()
class FusedLARS(Optimizer):
    r"""LARS (You et al., 2017) with no host-device synchronisation.

    For every parameter :math:`w` with gradient :math:`g` of a group with
    learning rate :math:`\eta_{lr}`, weight decay :math:`\lambda`, trust
    coefficient :math:`\eta` and momentum :math:`m`:

    .. math::
        r &= \begin{cases}
            \dfrac{\eta\,\|w\|}{\|g\| + \lambda\|w\| + \epsilon}
                & \|w\| > 0,\ \|g\| > 0,\ \text{not excluded} \\
            1 & \text{otherwise}
        \end{cases} \\
        d &= \eta_{lr}\, r\, (g + \lambda w), \qquad
        b \leftarrow m\, b + (1 - \text{dampening})\, d, \qquad
        w \leftarrow w - b

    (the first step sets :math:`b = d`; Nesterov uses :math:`d + m b`).
    These are the numbers of MMPretrain's ``LARS``, which BYOL's paper uses
    with :math:`\eta = 10^{-3}`, :math:`m = 0.9`, :math:`\lambda = 1.5\cdot
    10^{-6}`.  Here every group is updated with ``torch._foreach_*`` kernels
    and the trust ratios stay on the device (``torch.where`` replaces the
    zero-norm branch), so a step issues no ``.item()`` and takes no Python
    branch on a tensor value.

    A group with ``lars_exclude=True`` (biases and normalisation weights, set
    by :class:`BYOLOptimWrapperConstructor` from each parameter's role) uses
    :math:`r = 1`.

    Args:
        params (Iterable): parameters or parameter-group dicts.
        lr (float): base learning rate :math:`\eta_{lr}`.
        momentum (float): :math:`m`. Defaults to 0.
        weight_decay (float): :math:`\lambda`. Defaults to 0.
        dampening (float): momentum dampening. Defaults to 0.
        eta (float): trust coefficient :math:`\eta`. Defaults to 1e-3.
        nesterov (bool): Nesterov momentum. Defaults to False.
        eps (float): :math:`\epsilon`. Defaults to 1e-8.
        lars_exclude (bool): default for groups that do not set it.
            Defaults to False.
    """

    def __init__(self,
                 params: Iterable,
                 lr: float,
                 momentum: float = 0.,
                 weight_decay: float = 0.,
                 dampening: float = 0.,
                 eta: float = 1e-3,
                 nesterov: bool = False,
                 eps: float = 1e-8,
                 lars_exclude: bool = False) -> None:
        for name, value in (('lr', lr), ('momentum', momentum),
                            ('weight_decay', weight_decay), ('eta', eta)):
            if value < 0:
                raise ValueError(f'Invalid {name}: {value}')
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(
                'Nesterov momentum requires a momentum and zero dampening')
        defaults = dict(lr=lr, momentum=momentum, weight_decay=weight_decay,
                        dampening=dampening, eta=eta, nesterov=nesterov,
                        eps=eps, lars_exclude=lars_exclude)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        """One optimisation step over all groups (see the class doc)."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            params = [p for p in group['params'] if p.grad is not None]
            if not params:
                continue
            grouped = Optimizer._group_tensors_by_device_and_dtype(
                [params, [p.grad for p in params]])
            for (device_params, device_grads), _ in grouped.values():
                self._update(group, device_params, device_grads)
        return loss

    def _update(self, group: dict, params: List[torch.Tensor],
                grads: List[torch.Tensor]) -> None:
        lr, wd = group['lr'], group['weight_decay']
        momentum = group['momentum']
        # d = lr * r * (g + wd * w), in new tensors (gradients untouched)
        steps = (torch._foreach_add(grads, params, alpha=wd)
                 if wd != 0 else None)
        if group['lars_exclude']:
            scale = lr
        else:
            w_norm = torch.stack(torch._foreach_norm(params))
            g_norm = torch.stack(torch._foreach_norm(grads))
            trust = group['eta'] * w_norm / (
                g_norm + wd * w_norm + group['eps'])
            trust = torch.where((w_norm != 0) & (g_norm != 0), trust,
                                torch.ones_like(trust))
            scale = list((trust * lr).unbind())
        if steps is None:
            steps = torch._foreach_mul(grads, scale)
        else:
            torch._foreach_mul_(steps, scale)

        if momentum != 0:
            old_bufs, old_steps = [], []
            for p, d in zip(params, steps):
                state = self.state[p]
                if 'momentum_buffer' in state:
                    old_bufs.append(state['momentum_buffer'])
                    old_steps.append(d)
                else:  # first step: b = d
                    state['momentum_buffer'] = d.clone()
            if old_bufs:
                torch._foreach_mul_(old_bufs, momentum)
                torch._foreach_add_(old_bufs, old_steps,
                                    alpha=1 - group['dampening'])
            bufs = [self.state[p]['momentum_buffer'] for p in params]
            if group['nesterov']:
                torch._foreach_add_(steps, bufs, alpha=momentum)
            else:
                steps = bufs
        torch._foreach_sub_(params, steps)
