"""When the target network moves: once after every optimizer step."""
from typing import Callable, Optional

import torch

from mmbyol.functional import check_tau, cosine_tau


class EMASchedule:
    r"""Counts optimizer steps and moves BYOL's target after each one.

    After optimizer step :math:`k` (counted from 0), ``move_target(tau_k)``
    runs with :math:`\tau_k` = :func:`~mmbyol.functional.cosine_tau`
    ``(k, total_steps, base_tau, end_tau)``.  :meth:`attach` ties this to
    ``optimizer.step()`` with ``register_step_post_hook``, so it runs exactly
    when the optimizer steps: once per real step under gradient
    accumulation, never for a step that AMP's grad scaler or the
    non-finite-loss guard skips, never before the optimizer.

    :class:`~mmbyol.engine.hooks.BYOLMomentumHook` (Runner) and
    :class:`~mmbyol.learner.BYOLLearner` (plain PyTorch) both count with it.

    Args:
        move_target (callable): ``move_target(tau)``, one EMA step.
        total_steps (int, optional): :math:`K`, the optimizer steps of the
            run; needed by :meth:`step`.
        base_tau (float): :math:`\tau_{base}`, paper 0.996.
        end_tau (float): :math:`\tau_{end}`, paper 1.
    """

    def __init__(self,
                 move_target: Callable[[float], None],
                 total_steps: Optional[int] = None,
                 base_tau: float = 0.996,
                 end_tau: float = 1.0) -> None:
        check_tau('base_tau', base_tau)
        check_tau('end_tau', end_tau)
        if total_steps is not None and total_steps <= 0:
            raise ValueError(
                f'total_steps must be positive, got {total_steps}')
        self.move_target = move_target
        self.total_steps = total_steps
        self.base_tau, self.end_tau = float(base_tau), float(end_tau)
        self.steps, self.tau = 0, float(base_tau)
        self._handle = None

    def step(self, tau: Optional[float] = None) -> float:
        """Move the target with ``tau`` (default: this step's on the
        schedule) and count the step; returns the tau used."""
        if tau is None:
            if self.total_steps is None:
                raise ValueError('the tau schedule needs total_steps (the '
                                 'number of optimizer steps of the run)')
            tau = cosine_tau(self.steps, self.total_steps, self.base_tau,
                             self.end_tau)
        self.move_target(tau)
        self.steps += 1
        self.tau = float(tau)
        return self.tau

    @property
    def attached(self) -> bool:
        return self._handle is not None

    def attach(self, optimizer: torch.optim.Optimizer):
        """Run :meth:`step` after every ``optimizer.step()``; returns the
        removable handle. Attaching again moves the hook, never doubles
        it."""
        self.detach()
        self._handle = optimizer.register_step_post_hook(
            lambda _optimizer, _args, _kwargs: self.step())
        return self._handle

    def detach(self) -> None:
        """Stop moving the target after optimizer steps."""
        if self._handle is not None:
            self._handle.remove()
            self._handle = None

    def __getstate__(self) -> dict:
        # a copy (or an unpickled learner) is not attached to the optimizer
        return dict(self.__dict__, _handle=None)

    def state_dict(self) -> dict:
        """``dict(steps, tau)``: what a checkpoint keeps."""
        return dict(steps=self.steps, tau=self.tau)

    def load_state_dict(self, state: dict) -> None:
        self.steps, self.tau = int(state['steps']), float(state['tau'])
