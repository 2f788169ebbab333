import math
from typing import Optional, Sequence

from mmengine.hooks import Hook, LoggerHook
from mmengine.logging import print_log

from mmbyol.registry import HOOKS


@HOOKS.register_module()
class BYOLHealthHook(Hook):
    r"""Watches BYOL for collapse once per logging interval.

    :class:`BYOL` reports ``proj_std`` (mean per-dimension std of the
    l2-normalised online projections,
    :func:`mmbyol.functional.projection_std`: 0 when collapsed, about
    :math:`1/\sqrt{d}` when healthy, 0.0625 for the paper's
    :math:`d = 256`) and ``pred_target_cos``
    in its loss dict; MMEngine keeps them in the message hub as
    ``train/proj_std`` etc., next to ``train/tau``
    (:class:`BYOLMomentumHook`) and ``train/lr``.

    Every ``interval`` iterations this hook averages ``proj_std`` over the
    interval and logs a warning, with tau, lr and the cosine, when it is
    under ``std_floor`` for ``patience`` checks in a row. When the run has
    no :class:`LoggerHook` (which otherwise sends every ``train/*`` scalar
    to the visualizer backends), the hook writes the watched scalars to the
    visualizer itself.

    Args:
        std_floor (float): warn below this ``proj_std``. Defaults to 0.01
            (a sixth of the healthy value at d = 256; use about
            :math:`0.15/\sqrt{d}` for other projection sizes).
        interval (int, optional): iterations between checks; None uses the
            :class:`LoggerHook` interval (10 when there is none).
        patience (int): consecutive low checks before warning. Default 1.
        keys (Sequence[str]): message-hub scalars (without ``train/``)
            reported with the warning and, without a LoggerHook, sent to the
            visualizer.
    """

    priority = 'NORMAL'  # after RuntimeInfoHook, before LoggerHook

    def __init__(self,
                 std_floor: float = 0.01,
                 interval: Optional[int] = None,
                 patience: int = 1,
                 keys: Sequence[str] = ('proj_std', 'pred_target_cos', 'tau',
                                        'lr')) -> None:
        if std_floor < 0 or patience < 1 or (interval is not None
                                             and interval < 1):
            raise ValueError('need std_floor >= 0, patience >= 1 and '
                             f'interval >= 1; got {std_floor}, {patience}, '
                             f'{interval}')
        self.std_floor = std_floor
        self.interval = interval
        self.patience = patience
        self.keys = tuple(keys)
        self.low_checks = 0
        self.num_warnings = 0
        self._write_scalars = False
        self._missing_reported = False

    def before_train(self, runner) -> None:
        loggers = [h for h in runner.hooks if isinstance(h, LoggerHook)]
        if self.interval is None:
            self.interval = loggers[0].interval if loggers else 10
        self._write_scalars = not loggers

    def _window_mean(self, runner, key: str) -> Optional[float]:
        buffer = runner.message_hub.log_scalars.get(f'train/{key}')
        if buffer is None or len(buffer.data[0]) == 0:
            return None
        return float(buffer.mean(self.interval))

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        if not self.every_n_train_iters(runner, self.interval):
            return
        values = {k: self._window_mean(runner, k) for k in self.keys}
        if self._write_scalars:
            runner.visualizer.add_scalars(
                {k: v for k, v in values.items() if v is not None},
                step=runner.iter + 1)
        std = values.get('proj_std')
        if std is None:
            if not self._missing_reported:
                self._missing_reported = True
                print_log(
                    'BYOLHealthHook: the model reports no "proj_std"; '
                    'collapse is not being watched.',
                    logger='current', level=30)
            return
        if not math.isfinite(std) or std >= self.std_floor:
            self.low_checks = 0
            return
        self.low_checks += 1
        if self.low_checks >= self.patience:
            self.num_warnings += 1
            shown = '  '.join(f'{k}: {v:.4g}' for k, v in values.items()
                              if v is not None)
            print_log(
                f'BYOL may be collapsing at iter {runner.iter + 1}: '
                f'proj_std {std:.4g} < std_floor {self.std_floor:g} for '
                f'{self.low_checks} checks ({shown}). Healthy is about '
                '1/sqrt(projection dim). Usual causes: lr too high, tau too '
                'low, no predictor, or too weak augmentation.',
                logger='current', level=30)
