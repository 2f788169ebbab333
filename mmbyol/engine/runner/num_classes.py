"""A classifier's number of classes, taken from its labelled data or
checked against it."""
from typing import List, Optional

from mmengine.config import Config
from mmengine.registry import DATASETS, DefaultScope

from mmbyol.utils.errors import ConfigError

# the config entries that carry a classifier's number of classes
_KEYS = ('model.head', 'model.data_preprocessor', 'data_preprocessor')


def _entries(cfg: Config) -> List[tuple]:
    found = []
    for key in _KEYS:
        first, *rest = key.split('.')
        node = cfg.get(first)  # a Config is not a dict
        for part in rest:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict) and 'num_classes' in node:
            found.append((key, node))
    return found


def dataset_classes(dataset) -> Optional[tuple]:
    """``metainfo['classes']`` of a built data set, if it names any."""
    classes = (getattr(dataset, 'metainfo', None) or {}).get('classes')
    return tuple(classes) if classes else None


def fill_num_classes(cfg: Config) -> None:
    """Where the config leaves ``num_classes=None`` (classifier head, data
    preprocessor), set it to the number of classes of the training data."""
    entries = [(k, n) for k, n in _entries(cfg) if n['num_classes'] is None]
    if not entries:
        return
    dataset_cfg = cfg.train_dataloader.dataset
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope')):
        dataset = DATASETS.build(dataset_cfg) if isinstance(
            dataset_cfg, dict) else dataset_cfg
    classes = dataset_classes(dataset)
    if classes is None:
        raise ConfigError(
            f'{entries[0][0]}.num_classes=None, but '
            f'train_dataloader.dataset ({type(dataset).__name__}) names no '
            'classes: set the number of classes')
    for _, node in entries:
        node['num_classes'] = len(classes)


def check_classes(model, train_classes: Optional[tuple],
                  val_classes: Optional[tuple] = None) -> None:
    """The head predicts as many classes as the training data has, and the
    validation data has the same classes."""
    head = getattr(model, 'head', None)
    num = getattr(head, 'num_classes', None)
    if train_classes is not None and num is not None and \
            num != len(train_classes):
        shown = ', '.join(str(c) for c in train_classes[:3])
        raise ConfigError(
            f'model.head.num_classes={num} but the training data has '
            f'{len(train_classes)} classes ({shown}, ...): set '
            f'model.head.num_classes={len(train_classes)}, or None to take '
            'it from the data')
    if None not in (train_classes, val_classes) and \
            train_classes != val_classes:
        missing = sorted(set(train_classes) ^ set(val_classes))[:3]
        raise ConfigError(
            f'val_dataloader.dataset has {len(val_classes)} classes, the '
            f'training data {len(train_classes)}, and they differ (e.g. '
            f'{", ".join(map(str, missing)) or "in their order"}): both '
            'need the same class folders')
