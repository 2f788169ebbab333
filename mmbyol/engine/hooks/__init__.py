from .byol_momentum_hook import BYOLMomentumHook

__all__ = ['BYOLMomentumHook']
