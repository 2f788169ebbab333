from .amp_optim_wrapper import AutocastOptimWrapper
from .byol_constructor import BYOLOptimWrapperConstructor
from .lars import FusedLARS

__all__ = ['AutocastOptimWrapper', 'BYOLOptimWrapperConstructor', 'FusedLARS']
