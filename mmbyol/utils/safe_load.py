"""Load checkpoints with ``torch.load(weights_only=True)`` and nothing more.

``torch.load(weights_only=True)`` unpickles only tensors, containers and
plain Python values, so a checkpoint cannot run code when it is opened.
MMEngine's checkpoints also hold a few other objects: the message hub's
:class:`~mmengine.logging.HistoryBuffer` (whose numpy arrays and scalars
need numpy's reconstructors) and, inside each buffer, references to its
statistics methods, pickled as ``getattr(HistoryBuffer, 'mean')``.  This
module allow-lists exactly those, and maps the pickled ``getattr`` to a
function that returns nothing but those four methods, so a file that asks
for any other attribute is refused.  ``weights_only`` is never turned off.

Every mmbyol entry point that reads a checkpoint (``ReliableRunner``'s
``resume``/``load_from``, the tools) goes through
:func:`load_checkpoint_safely`.
"""
import io
import os.path as osp
import pickle
import zipfile
from typing import Any, Callable, Union

import numpy as np
import torch
from mmengine.logging import HistoryBuffer

from .errors import MMBYOLError

_STATISTICS = ('min', 'max', 'current', 'mean')
# numpy pickles an array's dtype through its class (e.g. Float64DType):
# plain numeric dtypes only, never ``object``.
_NUMERIC_DTYPES = ('bool', 'int8', 'int16', 'int32', 'int64', 'uint8',
                   'uint16', 'uint32', 'uint64', 'float16', 'float32',
                   'float64')


class UnreadableCheckpointError(MMBYOLError, RuntimeError):
    """The file is not a complete checkpoint (truncated, empty, corrupt, or
    not a checkpoint at all)."""


class CheckpointNotFoundError(MMBYOLError, FileNotFoundError):
    """No file at the checkpoint's path."""


class UnsafeCheckpointError(UnreadableCheckpointError):
    """The file asks to unpickle objects outside the allow-list."""


def _history_buffer_statistic(owner: Any, name: str) -> Callable:
    """Stand-in for the pickled ``getattr``: HistoryBuffer statistics only."""
    if owner is HistoryBuffer and name in _STATISTICS:
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(
        f'refused getattr({getattr(owner, "__name__", owner)!r}, {name!r}): '
        'only HistoryBuffer statistics are allowed')


_multiarray = np._core.multiarray if hasattr(np, '_core') else \
    np.core.multiarray  # numpy < 2

SAFE_GLOBALS = [
    HistoryBuffer,
    np.ndarray,
    np.dtype,
    _multiarray._reconstruct,
    _multiarray.scalar,
    (_history_buffer_statistic, 'builtins.getattr'),
] + [type(np.dtype(t)) for t in _NUMERIC_DTYPES]
"""The globals, beyond torch's own allow-list, that mmengine/mmbyol
checkpoints contain (found by loading real ones; see
``tests/utils/test_safe_load.py``)."""


def _unsafe_names(source: Union[str, io.BytesIO]) -> list:
    try:
        names = torch.serialization.get_unsafe_globals_in_checkpoint(source)
    except Exception:  # noqa: BLE001 - only used to improve the message
        return []
    allowed = {'builtins.getattr'} | {
        f'{g.__module__}.{g.__qualname__}'
        for g in SAFE_GLOBALS if not isinstance(g, tuple)
    }
    return [n for n in names if n not in allowed]


# torch.save writes a zip archive (torch >= 1.6) or, in the legacy format, a
# pickle, which starts with the PROTO opcode.
_MAGIC = (b'PK\x03\x04', b'\x80')


def _check_format(path: str, source: Union[str, io.BytesIO]) -> None:
    """Refuse a file that is neither format, naming what it looks like."""
    if isinstance(source, io.BytesIO):
        head = source.getvalue()[:4]
    else:
        with open(source, 'rb') as f:
            head = f.read(4)
    if not head:
        raise UnreadableCheckpointError(f'{path} is empty')
    if not head.startswith(_MAGIC):
        shown = head.decode('ascii', 'replace')
        raise UnreadableCheckpointError(
            f'{path} is not a PyTorch checkpoint (it starts with {shown!r}, '
            'not a zip archive or a pickle)')


def load_checkpoint_safely(path: str,
                           map_location: Union[str, torch.device,
                                               Callable, None] = 'cpu'
                           ) -> Any:
    """``torch.load(path, weights_only=True)`` with mmbyol's allow-list.

    Args:
        path (str): a local file, or any URI MMEngine's file backends read
            (``http://``, ``s3://``, ...).
        map_location: as for :func:`torch.load`. Defaults to ``'cpu'``.

    Raises:
        CheckpointNotFoundError: no such file (a ``FileNotFoundError``).
        UnsafeCheckpointError: the file holds pickled objects outside the
            allow-list (possibly code); it is not loaded.
        UnreadableCheckpointError: the file is a directory, empty,
            truncated, or not a checkpoint.
    """
    if '://' in path:
        from mmengine.fileio import get
        source: Union[str, io.BytesIO] = io.BytesIO(get(path))
    elif osp.isdir(path):
        raise UnreadableCheckpointError(
            f'{path} is a directory, not a checkpoint file')
    elif not osp.isfile(path):
        raise CheckpointNotFoundError(f'checkpoint {path} does not exist')
    else:
        source = path
    _check_format(path, source)
    try:
        with torch.serialization.safe_globals(SAFE_GLOBALS):
            return torch.load(source, map_location=map_location,
                              weights_only=True)
    except pickle.UnpicklingError as err:
        if isinstance(source, io.BytesIO):
            source.seek(0)
        names = _unsafe_names(source)
        what = ', '.join(names) if names else str(err).splitlines()[0]
        raise UnsafeCheckpointError(
            f'refused to load {path}: it contains pickled objects outside '
            f'mmbyol\'s weights_only allow-list ({what}). Only load it if '
            'you trust its source, and then convert it to a plain state '
            'dict yourself.') from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, ValueError,
            OSError) as err:
        raise UnreadableCheckpointError(
            f'cannot read checkpoint {path} (truncated or corrupt?): '
            f'{str(err).splitlines()[0] if str(err) else type(err).__name__}'
        ) from None


def _load_local_checkpoint(filename: str, map_location=None) -> Any:
    return load_checkpoint_safely(osp.expanduser(filename), map_location)


def use_safe_loader_in_mmengine() -> None:
    """MMEngine reads local checkpoints with :func:`load_checkpoint_safely`.

    MMEngine's own local loader calls ``torch.load`` with torch's default
    ``weights_only=True`` and no allow-list, so under torch >= 2.6 it cannot
    open the checkpoints MMEngine itself writes (their message hub holds
    ``HistoryBuffer`` objects). Every MMEngine path that reads a local file
    -- ``init_cfg=dict(type='Pretrained')``, ``load_checkpoint``,
    MMPretrain's and MMDetection's tools -- goes through its
    ``CheckpointLoader`` scheme for local paths, which this replaces.
    :func:`~mmbyol.utils.register_all_modules` calls it.
    """
    from mmengine.runner.checkpoint import CheckpointLoader
    CheckpointLoader.register_scheme(prefixes='',
                                     loader=_load_local_checkpoint,
                                     force=True)
