from contextlib import contextmanager
from typing import Optional, Union

import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.optim import AmpOptimWrapper, OptimWrapper

from mmbyol.registry import OPTIM_WRAPPERS
from mmbyol.utils.precision import autocast, autocast_dtype, dtype_name


@OPTIM_WRAPPERS.register_module()
class AutocastOptimWrapper(AmpOptimWrapper):
    """MMEngine's ``AmpOptimWrapper`` that also runs on the CPU.

    The forward pass (``optim_context``) runs under
    ``torch.autocast(device_type, dtype)`` on the device of the parameters,
    CPU or CUDA.  With the default ``bfloat16`` there is no loss scaling:
    bf16 has fp32's exponent range, so gradients cannot underflow, and
    without a ``GradScaler`` the step also avoids the scaler's inf-check
    ``.item()`` (a host-device sync).  ``float16`` uses a dynamic
    ``torch.amp.GradScaler`` exactly as the parent does; ``float32`` turns
    autocast off (a switch in configs).  The default ``auto`` is bf16 where
    the device computes it natively and fp32 elsewhere: on a CPU with
    plain AVX2, bf16 kernels are emulated and far slower than fp32
    (:mod:`mmbyol.utils.precision`); an explicit ``bfloat16`` there warns.

    Parameters, gradients, optimizer state and BYOL's EMA stay fp32; mmbyol's
    loss casts to fp32 before normalising.  Select it with ``--amp`` in
    ``tools/train.py`` or in a config::

        optim_wrapper = dict(type='AutocastOptimWrapper', dtype='auto')

    MMEngine's own ``AmpOptimWrapper`` asserts a GPU in ``__init__``; this
    subclass skips that assertion and otherwise keeps the parent's
    interface (``loss_scaler``, ``cast_dtype``, state dicts).

    Args:
        dtype (str | torch.dtype): autocast dtype, ``'auto'`` (default:
            bf16 where native, else fp32), ``'bfloat16'``, ``'float16'`` or
            ``'float32'`` (off). The resolved dtype is ``cast_dtype``.
        loss_scale (str | float | dict): GradScaler setting for float16
            (see ``AmpOptimWrapper``); ignored otherwise.
        device_type (str, optional): autocast device; defaults to the
            device of the first parameter.
        **kwargs: ``OptimWrapper`` arguments (optimizer, clip_grad,
            accumulative_counts).
    """

    def __init__(self,
                 dtype: Union[str, torch.dtype] = 'auto',
                 loss_scale: Union[str, float, dict] = 'dynamic',
                 device_type: Optional[str] = None,
                 **kwargs) -> None:
        OptimWrapper.__init__(self, **kwargs)  # not the GPU-only assertion
        self.device_type = device_type or self._param_device_type()
        requested, dtype = dtype, autocast_dtype(dtype, self.device_type)
        self.cast_dtype = dtype
        if requested == 'auto':  # say what 'auto' chose, when built
            print_log(f'AutocastOptimWrapper: dtype="auto" -> '
                      f'{dtype_name(dtype)} on {self.device_type}'
                      + ('' if dtype == torch.bfloat16 else
                         ' (no native bf16 kernels: autocast off)'),
                      logger='current')
        self._scale_update_param = None
        self.loss_scaler = None
        if dtype == torch.float16:
            if isinstance(loss_scale, float):
                self._scale_update_param = loss_scale
                scaler_kwargs = dict(init_scale=loss_scale)
            elif isinstance(loss_scale, dict):
                scaler_kwargs = loss_scale
            elif loss_scale == 'dynamic':
                scaler_kwargs = {}
            else:
                raise TypeError('loss_scale must be a float, a dict or '
                                f'"dynamic", got {loss_scale!r}')
            self.loss_scaler = torch.amp.GradScaler(self.device_type,
                                                    **scaler_kwargs)

    def _param_device_type(self) -> str:
        for group in self.optimizer.param_groups:
            for param in group['params']:
                return param.device.type
        return 'cpu'

    def backward(self, loss: torch.Tensor, **kwargs) -> None:
        if self.loss_scaler is None:
            OptimWrapper.backward(self, loss, **kwargs)
        else:
            super().backward(loss, **kwargs)

    def step(self, **kwargs) -> None:
        if self.loss_scaler is None:
            OptimWrapper.step(self, **kwargs)
        else:
            super().step(**kwargs)

    def state_dict(self) -> dict:
        if self.loss_scaler is None:
            return OptimWrapper.state_dict(self)
        return super().state_dict()

    def load_state_dict(self, state_dict: dict) -> None:
        if self.loss_scaler is None:
            state_dict = dict(state_dict)
            state_dict.pop('loss_scaler', None)  # e.g. from a float16 run
            OptimWrapper.load_state_dict(self, state_dict)
        else:
            super().load_state_dict(state_dict)

    @contextmanager
    def optim_context(self, model: nn.Module):
        """Gradient-accumulation context of ``OptimWrapper`` + autocast."""
        with OptimWrapper.optim_context(self, model), autocast(
                self.device_type, self.cast_dtype):
            yield
