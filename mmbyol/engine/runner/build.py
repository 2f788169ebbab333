from mmengine.config import Config
from mmengine.runner import Runner

from mmbyol.registry import RUNNERS


def build_runner(cfg: Config) -> Runner:
    """The Runner a config names with ``runner_type`` (every mmbyol config:
    ``ReliableRunner``), or MMEngine's own when it names none."""
    if 'runner_type' in cfg:
        return RUNNERS.build(cfg)
    return Runner.from_cfg(cfg)
