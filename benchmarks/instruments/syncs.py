"""Count host-device synchronisations in a block of code.

A host-device sync stalls the Python thread until the accelerator has
finished all queued work: ``.item()``, ``float(t)``, ``if t:``, ``t.tolist()``
on a device tensor, and ops whose output *shape* depends on tensor values
(``nonzero``, boolean indexing, ``unique``, ``masked_select``).
(``tolist()`` on a CPU tensor never reaches the dispatcher; on a device
tensor it is a counted copy to the host.  So that a CPU run reports the
syncs a device run would make, :class:`SyncCounter` also counts, as
``'tolist'``, ``tolist()`` of a CPU value computed from a CPU tensor that
requires grad (the model's parameters): on an accelerator that value would
live on the device.  Host-side values, such as augmentation parameters
drawn on the host, are not counted.)

:class:`SyncCounter` sees them on any device, the CPU included, with a
``TorchDispatchMode``: every op that would have to wait for a device to
produce a host value is counted by name.  On CUDA it additionally switches on
``torch.cuda.set_sync_debug_mode('warn')`` and counts the warnings, which
also catch synchronising copies that no single aten op reveals.

Example:
    >>> with SyncCounter() as syncs:
    ...     torch.ones(3).sum().item()
    >>> syncs.count, dict(syncs.by_op)
    (1, {'_local_scalar_dense': 1})
"""
import os.path as osp
import traceback
import warnings
from collections import Counter
from typing import List, Optional

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten
from torch.utils.weak import WeakTensorKeyDictionary

_aten = torch.ops.aten

# Ops whose result must travel to the host (a scalar, or an output whose size
# depends on the values).  ``item()``/``is_nonzero``/``float()`` all reach the
# dispatcher as ``_local_scalar_dense``.
SYNC_OPS = frozenset({
    _aten._local_scalar_dense,
    _aten.nonzero,
    _aten.masked_select,
    _aten.equal,
    _aten._unique,
    _aten._unique2,
    _aten.unique_dim,
    _aten.unique_consecutive,
    _aten.unique_dim_consecutive,
})


def _is_sync(func, args, kwargs) -> bool:
    packet = func.overloadpacket
    if packet in SYNC_OPS:
        return True
    if packet in (_aten.index, _aten.index_put, _aten.index_put_,
                  _aten._index_put_impl_) and len(args) >= 2:
        # boolean-mask indexing runs nonzero() inside the kernel
        return any(isinstance(i, torch.Tensor)
                   and i.dtype in (torch.bool, torch.uint8) for i in args[1]
                   if i is not None)
    if packet is _aten.repeat_interleave:
        # sized by the values unless output_size is given
        return kwargs.get('output_size') is None and len(args) < 4
    if packet is _aten.copy_ and len(args) >= 2:
        dst, src = args[0], args[1]
        return (isinstance(src, torch.Tensor) and src.device.type != 'cpu'
                and dst.device.type == 'cpu')
    if packet is _aten._to_copy and args:
        target = kwargs.get('device')
        return (args[0].device.type != 'cpu' and target is not None
                and torch.device(target).type == 'cpu')
    return False


_TORCH_DIR = osp.dirname(torch.__file__)


def _call_site(skip: int = 3) -> str:
    """``file:line`` of the innermost frame outside torch, ``skip`` frames
    up (3 from ``__torch_dispatch__``)."""
    for frame in reversed(traceback.extract_stack()[:-skip]):
        if not frame.filename.startswith(_TORCH_DIR):
            return f'{frame.filename}:{frame.lineno}'
    return '?'


class _SyncMode(TorchDispatchMode):

    def __init__(self, counter: Counter, sites: Optional[Counter]) -> None:
        super().__init__()
        self.counter = counter
        self.sites = sites

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if _is_sync(func, args, kwargs):
            self.counter[func.overloadpacket.__name__] += 1
            if self.sites is not None:
                self.sites[_call_site()] += 1
        out = func(*args, **kwargs)
        if any(_is_device_value(a) for a in tree_flatten((args, kwargs))[0]):
            for value in tree_flatten(out)[0]:
                if isinstance(value, torch.Tensor) and \
                        value.device.type == 'cpu':
                    _DEVICE_VALUES[value] = True
        return out


# the counters whose block is running (the tolist wrapper reports to them)
_ACTIVE: List['SyncCounter'] = []
# CPU tensors computed, inside a counted block, from the model's parameters
_DEVICE_VALUES = WeakTensorKeyDictionary()
_TENSOR_TOLIST = torch.Tensor.tolist
_OWN_TOLIST = 'tolist' in vars(torch.Tensor)  # else TensorBase's


def _is_device_value(value) -> bool:
    """A CPU tensor that would live on the device in an accelerator run."""
    return (isinstance(value, torch.Tensor) and value.device.type == 'cpu'
            and (value.requires_grad or value in _DEVICE_VALUES))


def _counted_tolist(tensor: torch.Tensor) -> list:
    """``Tensor.tolist`` while a counter runs: on the CPU, a copy of a
    device value is counted as the device-to-host copy it stands for."""
    if _is_device_value(tensor):
        for counter in _ACTIVE:
            counter.by_op['tolist'] += 1
            if counter.sites is not None:
                counter.sites[_call_site(skip=2)] += 1  # the caller
    return _TENSOR_TOLIST(tensor)


class SyncCounter:
    """Context manager counting host-device syncs (see the module doc).

    Args:
        cuda (bool, optional): also count CUDA's own synchronisation
            warnings (``set_sync_debug_mode``). Defaults to "CUDA is
            initialised".
        locate (bool): also record where each sync comes from (the first
            frame outside torch) in :attr:`sites`. Defaults to False.

    Attributes:
        count (int): syncs seen at the dispatcher, on any device.
        by_op (Counter): the same, per aten op name.
        cuda_count (int | None): synchronising CUDA calls reported by
            CUDA's sync debug mode; ``None`` when not watching CUDA.
        sites (Counter | None): ``file:line`` -> syncs, with ``locate``.
    """

    def __init__(self, cuda: Optional[bool] = None,
                 locate: bool = False) -> None:
        if cuda is None:
            cuda = torch.cuda.is_available() and torch.cuda.is_initialized()
        self.watch_cuda = bool(cuda)
        self.by_op: Counter = Counter()
        self.cuda_count: Optional[int] = None
        self.sites: Optional[Counter] = Counter() if locate else None
        self._mode = None
        self._warnings = None
        self._records = None
        self._old_debug_mode = 0

    @property
    def count(self) -> int:
        return sum(self.by_op.values())

    def __enter__(self) -> 'SyncCounter':
        if self.watch_cuda:
            self._warnings = warnings.catch_warnings(record=True)
            self._records = self._warnings.__enter__()
            warnings.simplefilter('always')
            self._old_debug_mode = torch.cuda.get_sync_debug_mode()
            torch.cuda.set_sync_debug_mode('warn')
        self._mode = _SyncMode(self.by_op, self.sites)
        self._mode.__enter__()
        if not _ACTIVE:
            torch.Tensor.tolist = _counted_tolist
        _ACTIVE.append(self)
        return self

    def __exit__(self, *exc) -> None:
        _ACTIVE.remove(self)
        if not _ACTIVE:
            if _OWN_TOLIST:
                torch.Tensor.tolist = _TENSOR_TOLIST
            else:
                del torch.Tensor.tolist
            _DEVICE_VALUES.clear()
        self._mode.__exit__(*exc)
        if self.watch_cuda:
            torch.cuda.set_sync_debug_mode(self._old_debug_mode)
            self.cuda_count = sum('synchronizing' in str(w.message)
                                  for w in self._records)
            self._warnings.__exit__(*exc)
