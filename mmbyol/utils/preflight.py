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
