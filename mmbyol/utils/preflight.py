"""Checks run on a config before training starts: one-line errors that name
the config key, instead of a traceback from a data-loader worker."""
import os.path as osp

from mmengine.config import Config


class ConfigError(ValueError):
    """A config value that cannot work, with the key that holds it."""


def _dataset_root(dataset: dict) -> str:
    root = dataset.get('data_root', '') or ''
    prefix = dataset.get('data_prefix', '') or ''
    if isinstance(prefix, dict):
        prefix = prefix.get('img_path', '') or prefix.get('img', '') or ''
    return osp.join(root, prefix) if prefix else root


def check_data_root(cfg: Config) -> None:
    """Raise :class:`ConfigError` when the training images are not there."""
    loader = cfg.get('train_dataloader')
    if not loader:
        return
    dataset = loader.get('dataset', {})
    while 'dataset' in dataset:  # RepeatDataset and friends
        dataset = dataset['dataset']
    if dataset.get('ann_file') or not (dataset.get('data_root')
                                       or dataset.get('data_prefix')):
        return
    path = _dataset_root(dataset)
    if not osp.isdir(path):
        raise ConfigError(
            f'train_dataloader.dataset: image folder "{path}" does not '
            'exist (data_root + data_prefix). Put your images there, link '
            'it, or set --cfg-options train_dataloader.dataset.data_root=...')


# Where each config key's ``type`` is looked up.
_TOP_LEVEL = {
    'train_cfg': 'LOOPS',
    'visualizer': 'VISUALIZERS',
    'model_wrapper_cfg': 'MODEL_WRAPPERS',
}
_REGISTRY_WORDS = {
    'MODELS': 'model', 'DATASETS': 'dataset', 'TRANSFORMS': 'transform',
    'DATA_SAMPLERS': 'data sampler', 'OPTIM_WRAPPERS': 'optim wrapper',
    'OPTIMIZERS': 'optimizer', 'PARAM_SCHEDULERS': 'parameter scheduler',
    'HOOKS': 'hook', 'LOOPS': 'loop', 'RUNNERS': 'runner',
    'VISUALIZERS': 'visualizer', 'VISBACKENDS': 'vis backend',
    'MODEL_WRAPPERS': 'model wrapper',
    'OPTIM_WRAPPER_CONSTRUCTORS': 'optim wrapper constructor',
}


def _known_names(registry) -> list:
    names = []
    while registry is not None:
        names.extend(registry.module_dict)
        registry = registry.parent
    return names


def _check_type(node: str, key: str, name, scope: str) -> None:
    if not isinstance(name, str):
        return  # a class given directly
    import difflib

    from mmengine import registry as mmengine_registry
    root = getattr(mmengine_registry, node)
    with root.switch_scope_and_registry(scope) as registry:
        if registry.get(name) is not None:
            return
        close = difflib.get_close_matches(
            name.split('.')[-1], _known_names(registry), n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ''
    raise ConfigError(f"{key}='{name}' is not a registered "
                      f"{_REGISTRY_WORDS[node]} in scope "
                      f"'{scope or 'mmengine'}'{hint}")


def _walk(value, key: str, node: str, scope: str, nested_node=None) -> None:
    """Check ``value['type']`` in ``node`` and every nested typed dict in
    ``nested_node`` (default: the same registry)."""
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _walk(item, f'{key}[{i}]', node, scope, nested_node)
        return
    if not isinstance(value, dict):
        return
    if 'type' in value:
        _check_type(node, f'{key}.type', value['type'], scope)
    for sub_key, sub in value.items():
        if sub_key in ('init_cfg', 'batch_augments', 'type'):
            continue
        sub_node = nested_node or node
        if sub_key == 'dataset':
            sub_node = 'DATASETS'
        elif sub_key == 'pipeline':
            sub_node = 'TRANSFORMS'
        elif sub_key == 'vis_backends':
            sub_node = 'VISBACKENDS'
        _walk(sub, f'{key}.{sub_key}', sub_node, scope)


def check_type_names(cfg: Config) -> None:
    """Every ``type`` in the config names a registered component."""
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
        _check_type('OPTIM_WRAPPERS', 'optim_wrapper.type',
                    optim.get('type', 'OptimWrapper'), scope)
        _walk(optim.get('optimizer'), 'optim_wrapper.optimizer',
              'OPTIMIZERS', scope)
        if optim.get('constructor'):
            _check_type('OPTIM_WRAPPER_CONSTRUCTORS',
                        'optim_wrapper.constructor', optim.constructor, scope)
    _walk(cfg.get('param_scheduler'), 'param_scheduler', 'PARAM_SCHEDULERS',
          scope)
    for name, hook in (cfg.get('default_hooks') or {}).items():
        _walk(hook, f'default_hooks.{name}', 'HOOKS', scope)
    _walk(cfg.get('custom_hooks'), 'custom_hooks', 'HOOKS', scope)
    for key, node in _TOP_LEVEL.items():
        _walk(cfg.get(key), key, node, scope)
    _walk(cfg.get('vis_backends'), 'vis_backends', 'VISBACKENDS', scope)
    if cfg.get('runner_type'):
        _check_type('RUNNERS', 'runner_type', cfg.runner_type, scope)


def check_momentum_hook(cfg: Config) -> None:
    """A BYOL model needs exactly one BYOLMomentumHook with tau in [0.9, 1]."""
    from mmbyol.engine.hooks.byol_momentum_hook import check_tau
    hooks = [(i, h) for i, h in enumerate(cfg.get('custom_hooks') or [])
             if str(h.get('type', '')).split('.')[-1] == 'BYOLMomentumHook']
    for i, hook in hooks:
        for name in ('base_tau', 'end_tau'):
            if name in hook:
                try:
                    check_tau(f'custom_hooks[{i}].{name}', hook[name])
                except ValueError as err:
                    raise ConfigError(str(err)) from None
    model_type = str((cfg.get('model') or {}).get('type', ''))
    if model_type.split('.')[-1] == 'BYOL' and len(hooks) != 1:
        raise ConfigError(
            f'custom_hooks: {len(hooks)} BYOLMomentumHook entries, need '
            'exactly 1 (without it the target network never moves; a '
            "child config's custom_hooks list replaces the base's)")


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

    from mmbyol.models.algorithms.byol import pool_features
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
    message naming the config key."""
    check_data_root(cfg)
    check_type_names(cfg)
    check_momentum_hook(cfg)
    check_neck_channels(cfg)
