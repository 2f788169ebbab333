import math
from typing import Optional

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmbyol.functional import cosine_tau
from mmbyol.registry import HOOKS


def check_tau(name: str, value: float) -> None:
    """Refuse a decay rate outside [0.9, 1] with a message naming it."""
    if not 0.9 <= value <= 1.0:
        raise ValueError(
            f'{name}={value} is outside [0.9, 1]. BYOL\'s tau is the weight '
            'of the *old* target (paper: 0.996); a config written for '
            'MMEngine/MMPretrain "momentum" (1 - tau, e.g. 0.004) must be '
            f'converted: {name}={1 - value:g}?')


@HOOKS.register_module()
class BYOLMomentumHook(Hook):
    r"""Moves BYOL's target network once after every optimizer step.

    After optimizer step :math:`k` (counted from 0) the target becomes
    :math:`\xi \leftarrow \tau_k\xi + (1-\tau_k)\theta` with the cosine
    schedule :func:`mmbyol.functional.cosine_tau` over
    :math:`K = \lceil \text{max\_iters} / \text{accumulative\_counts}\rceil`
    optimizer steps.

    The update is attached to the optimizer itself with
    ``register_step_post_hook``, so it runs exactly when ``optimizer.step()``
    runs: once per real step under gradient accumulation, never on a step
    that AMP's grad scaler skips, and never before the optimizer.  The step
    counter is saved in and restored from the checkpoint.

    Args:
        base_tau (float): :math:`\tau_{base}`, paper 0.996. Must be in
            [0.9, 1].
        end_tau (float): :math:`\tau_{end}`, paper 1.0.
    """

    priority = 'NORMAL'

    def __init__(self, base_tau: float = 0.996, end_tau: float = 1.0) -> None:
        check_tau('base_tau', base_tau)
        check_tau('end_tau', end_tau)
        self.base_tau = base_tau
        self.end_tau = end_tau
        self.steps = 0
        self.total_steps: Optional[int] = None
        self.tau = base_tau
        self._model = None
        self._handle = None

    def before_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        if not hasattr(model, 'update_target'):
            raise TypeError('BYOLMomentumHook needs a model with '
                            f'update_target(tau); got {type(model).__name__}')
        self._model = model
        accumulation = getattr(runner.optim_wrapper, '_accumulative_counts',
                               1)
        self.total_steps = max(1, math.ceil(runner.max_iters / accumulation))
        if self._handle is not None:
            self._handle.remove()
        self._handle = runner.optim_wrapper.optimizer.register_step_post_hook(
            self._after_optimizer_step)

    def _after_optimizer_step(self, optimizer, args, kwargs) -> None:
        self.tau = cosine_tau(self.steps, self.total_steps, self.base_tau,
                              self.end_tau)
        self._model.update_target(self.tau)
        self.steps += 1

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        runner.message_hub.update_scalar('train/tau', self.tau)

    def after_train(self, runner) -> None:
        if self._handle is not None:
            self._handle.remove()
            self._handle = None

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint['byol_momentum'] = dict(steps=self.steps, tau=self.tau)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        state = checkpoint.get('byol_momentum')
        if state is not None:
            self.steps = int(state['steps'])
            self.tau = float(state['tau'])
