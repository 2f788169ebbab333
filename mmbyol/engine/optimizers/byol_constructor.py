from typing import Dict, List

import torch.nn as nn
from mmengine.model import is_model_wrapper
from mmengine.optim import DefaultOptimWrapperConstructor, OptimWrapper

from mmbyol.registry import OPTIM_WRAPPER_CONSTRUCTORS, OPTIM_WRAPPERS, \
    OPTIMIZERS


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class BYOLOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """Optimises the trainable parameters only, grouped by role.

    * Parameters with ``requires_grad=False`` (BYOL's target network) are
      left out of the optimizer entirely.
    * With ``paramwise_cfg=dict(exclude_bias_and_norm=True)``, every bias and
      every normalisation-layer parameter (the 1-D parameters) gets
      ``weight_decay=0`` and ``lars_exclude=True``: the paper's "bias and
      batch normalization parameters are excluded from LARS adaptation and
      weight decay", decided by the parameter's role, not its name.
    * MMEngine's other ``paramwise_cfg`` options still apply; afterwards
      parameters with identical options are merged into one group, so fused
      (``foreach``) optimizers see whole lists.
    """

    def __init__(self, optim_wrapper_cfg: dict,
                 paramwise_cfg: dict = None) -> None:
        paramwise_cfg = dict(paramwise_cfg or {})
        self.exclude_bias_and_norm = paramwise_cfg.pop(
            'exclude_bias_and_norm', False)
        super().__init__(optim_wrapper_cfg, paramwise_cfg)

    def add_params(self, params: List[Dict], module: nn.Module,
                   prefix: str = '', is_dcn_module=None) -> None:
        # A wholly frozen sub-module (the target network) is skipped here,
        # before MMEngine warns once per frozen parameter.
        if any(p.requires_grad for p in module.parameters()):
            super().add_params(params, module, prefix, is_dcn_module)

    def param_groups(self, model: nn.Module) -> List[Dict]:
        """The merged parameter groups this constructor gives the optimizer."""
        groups: List[Dict] = []
        self.add_params(groups, model)
        merged: Dict[tuple, Dict] = {}
        for group in groups:
            (param, ) = group.pop('params')
            if not param.requires_grad:
                continue
            if self.exclude_bias_and_norm and param.ndim <= 1:
                group.update(weight_decay=0.0, lars_exclude=True)
            key = tuple(sorted(group.items()))
            merged.setdefault(key, dict(group, params=[]))['params'].append(
                param)
        return list(merged.values())

    def __call__(self, model: nn.Module) -> OptimWrapper:
        if is_model_wrapper(model):
            model = model.module
        optimizer_cfg = self.optimizer_cfg.copy()
        optimizer_cfg['params'] = self.param_groups(model)
        optimizer = OPTIMIZERS.build(optimizer_cfg)
        wrapper_cfg = self.optim_wrapper_cfg.copy()
        wrapper_cfg.setdefault('type', 'OptimWrapper')
        return OPTIM_WRAPPERS.build(
            wrapper_cfg, default_args=dict(optimizer=optimizer))
