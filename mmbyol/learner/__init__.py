"""BYOL around any network in a plain PyTorch loop (no config, no Runner)."""
from .byol_learner import IMAGENET_MEAN, IMAGENET_STD, BYOLLearner
from .hidden_layer import represent, resolve_layer
from .runner_checkpoint import learner_to_runner, runner_to_learner

__all__ = [
    'BYOLLearner', 'IMAGENET_MEAN', 'IMAGENET_STD', 'represent',
    'resolve_layer', 'learner_to_runner', 'runner_to_learner'
]
