from .build import build_model, build_runner
from .checkpoint_hook import AtomicCheckpointHook
from .ddp import GuardedDistributedDataParallel
from .loops import ResumableEpochBasedTrainLoop, ResumableIterBasedTrainLoop
from .reliable_runner import ReliableRunner
from .sampler import PerSampleSeeded, ResumableSampler

__all__ = [
    'AtomicCheckpointHook', 'GuardedDistributedDataParallel',
    'ResumableEpochBasedTrainLoop', 'ResumableIterBasedTrainLoop',
    'ReliableRunner', 'PerSampleSeeded', 'ResumableSampler', 'build_model',
    'build_runner'
]
