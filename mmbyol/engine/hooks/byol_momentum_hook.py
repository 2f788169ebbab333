import math

from mmengine.hooks import Hook
from mmpretrain.utils import get_ori_model

from mmbyol.ema_schedule import EMASchedule
from mmbyol.registry import HOOKS


@HOOKS.register_module()
class BYOLMomentumHook(Hook):
    r"""Moves BYOL's target network once after every optimizer step.

    After optimizer step :math:`k` (counted from 0) the target becomes
    :math:`\xi \leftarrow \tau_k\xi + (1-\tau_k)\theta` with the cosine
    schedule :func:`mmbyol.functional.cosine_tau` over
    :math:`K = \lceil \text{max\_iters} / \text{accumulative\_counts}\rceil`
    optimizer steps, counted by :class:`mmbyol.ema_schedule.EMASchedule`,
    which is attached to the optimizer itself: the update runs exactly when
    ``optimizer.step()`` runs (once per real step under gradient
    accumulation, never for a skipped step, never before the optimizer).
    The step counter is saved in and restored from the checkpoint
    (``checkpoint['byol_momentum']``).

    Args:
        base_tau (float): :math:`\tau_{base}`, paper 0.996. Must be in
            [0.9, 1].
        end_tau (float): :math:`\tau_{end}`, paper 1.0.
    """

    priority = 'NORMAL'

    def __init__(self, base_tau: float = 0.996, end_tau: float = 1.0) -> None:
        self.schedule = EMASchedule(self._no_model, None, base_tau, end_tau)

    @staticmethod
    def _no_model(tau: float) -> None:
        raise RuntimeError('BYOLMomentumHook moves a target only once '
                           'training has started')

    @property
    def steps(self) -> int:
        return self.schedule.steps

    @property
    def tau(self) -> float:
        return self.schedule.tau

    def before_train(self, runner) -> None:
        model = get_ori_model(runner.model)
        if not hasattr(model, 'update_target'):
            raise TypeError('BYOLMomentumHook needs a model with '
                            f'update_target(tau); got {type(model).__name__}')
        accumulation = getattr(runner.optim_wrapper, '_accumulative_counts',
                               1)
        self.schedule.move_target = model.update_target
        self.schedule.total_steps = max(
            1, math.ceil(runner.max_iters / accumulation))
        self.schedule.attach(runner.optim_wrapper.optimizer)

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        runner.message_hub.update_scalar('train/tau', self.tau)

    def after_train(self, runner) -> None:
        self.schedule.detach()

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint['byol_momentum'] = self.schedule.state_dict()

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        if 'byol_momentum' in checkpoint:
            self.schedule.load_state_dict(checkpoint['byol_momentum'])
