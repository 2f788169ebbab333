from mmengine.config import Config
from mmengine.runner import Runner

from mmbyol.registry import RUNNERS
from .reliable_runner import ReliableRunner


def build_runner(cfg: Config) -> Runner:
    """The Runner a config names with ``runner_type`` (every mmbyol config:
    ``mmbyol.ReliableRunner``); :class:`ReliableRunner` for any other config
    in mmbyol's scope, and MMEngine's own elsewhere (e.g. MMDetection's)."""
    if 'runner_type' in cfg:
        return RUNNERS.build(cfg)
    if cfg.get('default_scope') == 'mmbyol':
        return ReliableRunner.from_cfg(cfg)
    return Runner.from_cfg(cfg)
