import copy

import torch.nn as nn
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.runner import Runner

from mmbyol.registry import MODELS, RUNNERS
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


def build_model(cfg: Config) -> nn.Module:
    """``cfg.model`` built exactly as MMEngine's Runner builds it: the
    config's top-level ``data_preprocessor`` (where mmbyol's and
    MMPretrain's configs put it) fills in a model that names none, and
    names resolve in the config's default scope."""
    model = copy.deepcopy(cfg.model)
    if cfg.get('data_preprocessor') is not None:
        model.setdefault('data_preprocessor', cfg.data_preprocessor)
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope')):
        return MODELS.build(model)
