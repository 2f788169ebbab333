"""Checks run on a config before training starts: one-line errors that name
the config key, instead of a traceback from deep inside a build or a
data-loader worker."""
import difflib
import inspect
import os
import os.path as osp
from typing import Iterator, Optional, Set

from mmengine.config import Config

from mmbyol.datasets import IMG_EXTENSIONS
from mmbyol.functional import check_tau, pool_features
from mmbyol.utils.errors import ConfigError

# --------------------------------------------------------------- the data


def _dataset_root(dataset: dict) -> str:
    root = dataset.get('data_root', '') or ''
    prefix = dataset.get('data_prefix', '') or ''
    if isinstance(prefix, dict):
        prefix = prefix.get('img_path', '') or prefix.get('img', '') or ''
    return osp.join(root, prefix) if prefix else root


def _has_an_image(folder: str) -> bool:
    for _, dirs, files in os.walk(folder, followlinks=True):
        if any(f.lower().endswith(IMG_EXTENSIONS) for f in files):
            return True
    return False


def check_data_root(cfg: Config) -> None:
    """The training images are there: the folder exists and holds at least
    one image (found without listing the whole tree)."""
    loader = cfg.get('train_dataloader')
    if not loader:
        return
    dataset = loader.get('dataset', {})
    while 'dataset' in dataset:  # RepeatDataset and friends
        dataset = dataset['dataset']
    if dataset.get('ann_file') or 'split' in dataset or not (
            dataset.get('data_root') or dataset.get('data_prefix')):
        return
    path = _dataset_root(dataset)
    if not osp.isdir(path):
        raise ConfigError(
            f'train_dataloader.dataset: image folder "{path}" does not '
            'exist (data_root + data_prefix). Put your images there, link '
            'it, or set --cfg-options train_dataloader.dataset.data_root=...')
    if not _has_an_image(path):
        raise ConfigError(
            f'train_dataloader.dataset: image folder "{path}" holds no image '
            f'files ({", ".join(IMG_EXTENSIONS)})')


# ------------------------------------------------------ names and values

_REGISTRY_WORDS = {
    'MODELS': 'model', 'DATASETS': 'dataset', 'TRANSFORMS': 'transform',
    'DATA_SAMPLERS': 'data sampler', 'OPTIM_WRAPPERS': 'optim wrapper',
    'OPTIMIZERS': 'optimizer', 'PARAM_SCHEDULERS': 'parameter scheduler',
    'HOOKS': 'hook', 'LOOPS': 'loop', 'RUNNERS': 'runner',
    'VISUALIZERS': 'visualizer', 'VISBACKENDS': 'vis backend',
    'MODEL_WRAPPERS': 'model wrapper',
    'OPTIM_WRAPPER_CONSTRUCTORS': 'optim wrapper constructor',
}
# Where each top-level key's ``type`` is looked up.
_TOP_LEVEL = {
    'train_cfg': 'LOOPS',
    'visualizer': 'VISUALIZERS',
    'model_wrapper_cfg': 'MODEL_WRAPPERS',
}
# Registries whose components take their config keys as constructor
# arguments (others, e.g. schedulers and loops, get extra keys handled by
# their builders).
_ARGUMENT_CHECKED = {'MODELS', 'DATASETS', 'TRANSFORMS', 'HOOKS',
                     'OPTIMIZERS', 'VISBACKENDS'}


def _known_names(registry) -> list:
    names = []
    while registry is not None:
        names.extend(registry.module_dict)
        registry = registry.parent
    return names


def _resolve(node: str, key: str, name, scope: Optional[str]):
    """The registered class ``name`` names, or a :class:`ConfigError`."""
    if not isinstance(name, str):
        return name  # a class given directly
    from mmengine import registry as mmengine_registry
    root = getattr(mmengine_registry, node)
    with root.switch_scope_and_registry(scope) as registry:
        found = registry.get(name)
        if found is not None:
            return found
        close = difflib.get_close_matches(
            name.split('.')[-1], _known_names(registry), n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ''
    raise ConfigError(f"{key}='{name}' is not a registered "
                      f"{_REGISTRY_WORDS[node]} in scope "
                      f"'{scope or 'mmengine'}'{hint}")


def accepted_arguments(cls) -> Optional[Set[str]]:
    """The keyword arguments ``cls(...)`` accepts, following ``**kwargs``
    up the class hierarchy; None when that cannot be known."""
    if not inspect.isclass(cls):
        return None
    names: Set[str] = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get('__init__')
        if init is None:
            continue
        try:
            params = inspect.signature(init).parameters.values()
        except (TypeError, ValueError):
            return None
        names.update(p.name for p in params
                     if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY))
        if not any(p.kind == p.VAR_KEYWORD for p in params):
            return names - {'self'}
    return None


def _check_arguments(cls, key: str, value: dict) -> None:
    accepted = accepted_arguments(cls)
    if accepted is None:
        return
    for arg in value:
        if arg in ('type', '_scope_') or arg in accepted:
            continue
        close = difflib.get_close_matches(arg, sorted(accepted), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ''
        raise ConfigError(f'{key}.{arg}: {cls.__name__} has no argument '
                          f"'{arg}'{hint}")


def _walk(value, key: str, node: str, scope: Optional[str]) -> None:
    """Check the ``type`` (and argument names) of ``value`` and of every
    typed dict inside it."""
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _walk(item, f'{key}[{i}]', node, scope)
        return
    if not isinstance(value, dict):
        return
    if 'type' in value:
        cls = _resolve(node, f'{key}.type', value['type'], scope)
        # `norm_cfg`, `act_cfg`, ...: layer specs whose builders take keys
        # of their own (e.g. `requires_grad`), not constructor arguments
        if node in _ARGUMENT_CHECKED and not key.endswith('_cfg'):
            _check_arguments(cls, key, value)
    for sub_key, sub in value.items():
        if sub_key in ('init_cfg', 'batch_augments', 'type'):
            continue
        sub_node = {'dataset': 'DATASETS', 'datasets': 'DATASETS',
                    'pipeline': 'TRANSFORMS', 'transforms': 'TRANSFORMS',
                    'vis_backends': 'VISBACKENDS'}.get(sub_key, node)
        _walk(sub, f'{key}.{sub_key}', sub_node, scope)


def _hooks(cfg: Config) -> Iterator[tuple]:
    """``(key, hook config)`` of every hook the config names."""
    for name, hook in (cfg.get('default_hooks') or {}).items():
        if hook is not None:
            yield f'default_hooks.{name}', hook
    for i, hook in enumerate(cfg.get('custom_hooks') or []):
        yield f'custom_hooks[{i}]', hook


def check_type_names(cfg: Config) -> None:
    """Every ``type`` in the config names a registered component, and every
    argument given to a model, dataset, transform, hook or optimizer is one
    it takes."""
    scope = cfg.get('default_scope')
    if cfg.get('model'):
        _walk(cfg.model, 'model', 'MODELS', scope)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if cfg.get(loader):
            _walk(cfg[loader].get('dataset'), f'{loader}.dataset',
                  'DATASETS', scope)
            for sampler in ('sampler', 'batch_sampler'):
                _walk(cfg[loader].get(sampler), f'{loader}.{sampler}',
                      'DATA_SAMPLERS', scope)
    optim = cfg.get('optim_wrapper')
    if optim:
        _resolve('OPTIM_WRAPPERS', 'optim_wrapper.type',
                 optim.get('type', 'OptimWrapper'), scope)
        _walk(optim.get('optimizer'), 'optim_wrapper.optimizer',
              'OPTIMIZERS', scope)
        if optim.get('constructor'):
            _resolve('OPTIM_WRAPPER_CONSTRUCTORS',
                     'optim_wrapper.constructor', optim.constructor, scope)
    _walk(cfg.get('param_scheduler'), 'param_scheduler', 'PARAM_SCHEDULERS',
          scope)
    for key, hook in _hooks(cfg):
        _walk(hook, key, 'HOOKS', scope)
    for key, node in _TOP_LEVEL.items():
        _walk(cfg.get(key), key, node, scope)
    _walk(cfg.get('vis_backends'), 'vis_backends', 'VISBACKENDS', scope)
    if cfg.get('runner_type'):
        _resolve('RUNNERS', 'runner_type', cfg.runner_type, scope)


def _positive_int(value, key: str, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f'{key}={value!r}: must be a positive integer')


def check_numbers(cfg: Config) -> None:
    """Batch sizes, run length, intervals and the seed are usable."""
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if cfg.get(loader) and 'batch_size' in cfg[loader]:
            _positive_int(cfg[loader].batch_size, f'{loader}.batch_size')
        if cfg.get(loader) and cfg[loader].get('num_workers', 0) is not None:
            workers = cfg[loader].get('num_workers', 0)
            if isinstance(workers, bool) or not isinstance(
                    workers, int) or workers < 0:
                raise ConfigError(f'{loader}.num_workers={workers!r}: must '
                                  'be an integer >= 0')
    train_cfg = cfg.get('train_cfg') or {}
    for key in ('max_iters', 'max_epochs', 'val_interval', 'val_begin'):
        if key in train_cfg:
            _positive_int(train_cfg[key], f'train_cfg.{key}')
    seed = (cfg.get('randomness') or {}).get('seed')
    if seed is not None and (isinstance(seed, bool)
                             or not isinstance(seed, int)):
        raise ConfigError(f'randomness.seed={seed!r}: must be an integer '
                          'or None')


def check_momentum_hooks(cfg: Config) -> None:
    """At most one BYOLMomentumHook (two would move the target twice per
    step), with tau in [0.9, 1]. A BYOL config without one gets one from
    :class:`~mmbyol.engine.runner.ReliableRunner`."""
    hooks = [(key, hook) for key, hook in _hooks(cfg)
             if str(hook.get('type', '')).split('.')[-1] ==
             'BYOLMomentumHook']
    for key, hook in hooks:
        for name in ('base_tau', 'end_tau'):
            if name in hook:
                check_tau(f'{key}.{name}', hook[name])
    if len(hooks) > 1:
        raise ConfigError(
            f'{len(hooks)} BYOLMomentumHook entries ('
            f'{", ".join(k for k, _ in hooks)}): the target would move '
            f'{len(hooks)} times per step; keep one')


def check_neck_channels(cfg: Config) -> None:
    """``model.neck.in_channels`` equals the backbone's output channels
    (found by running the backbone once on a small zero image)."""
    model = cfg.get('model') or {}
    neck, backbone = model.get('neck'), model.get('backbone')
    if not (isinstance(neck, dict) and isinstance(backbone, dict)
            and 'in_channels' in neck):
        return
    import torch
    from mmengine.registry import MODELS, DefaultScope

    scope = cfg.get('default_scope')
    with DefaultScope.overwrite_default_scope(scope):
        try:
            net = MODELS.build(backbone)
        except Exception as err:  # noqa: BLE001 - reported in one line
            raise ConfigError(f'model.backbone: cannot build '
                              f"{backbone.get('type')}: {err}") from None
    size = backbone.get('img_size', 32)
    size = size if isinstance(size, int) else 32
    net.eval()  # (MMPretrain's ResNet.train() does not return self)
    try:
        with torch.no_grad():
            channels = pool_features(net(torch.zeros(1, 3, size,
                                                     size))).shape[1]
    except Exception:  # noqa: BLE001 - backbone needs other inputs: skip
        return
    if neck['in_channels'] != channels:
        raise ConfigError(
            f"model.neck.in_channels={neck['in_channels']} but "
            f"model.backbone ({backbone.get('type')}) outputs {channels} "
            f'channels: set model.neck.in_channels={channels}')
    predictor = (model.get('head') or {}).get('predictor') or {}
    out = neck.get('out_channels')
    if out is not None and predictor.get('in_channels', out) != out:
        raise ConfigError(
            f"model.head.predictor.in_channels={predictor['in_channels']} "
            f'but model.neck.out_channels={out}')


def check_batch_size(dataloader, key: str) -> None:
    """Raise when a process's batch is larger than its share of the data
    (used by :class:`~mmbyol.engine.runner.ReliableRunner` once the data
    loader exists, so the data set is not listed twice)."""
    batch = dataloader.batch_size or getattr(dataloader.batch_sampler,
                                             'batch_size', None)
    try:
        per_process = len(dataloader.sampler)
    except TypeError:
        return
    if batch and batch > per_process:
        raise ConfigError(
            f'{key}={batch} is larger than the {per_process} samples each '
            f'process gets per epoch (data set: {len(dataloader.dataset)} '
            'samples): lower the batch size or use more data')


def check_config(cfg: Config) -> None:
    """All pre-training checks; raises :class:`ConfigError` with a one-line
    message naming the config key. A config of another library's scope
    (MMDetection's) gets the checks of its numbers only: its components
    follow that library's conventions."""
    check_numbers(cfg)
    if cfg.get('default_scope', 'mmbyol') != 'mmbyol':
        return
    check_type_names(cfg)
    check_momentum_hooks(cfg)
    check_data_root(cfg)
    check_neck_channels(cfg)
