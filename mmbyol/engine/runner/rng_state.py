"""The global random generators' states as checkpoint-safe values.

Only tensors, ints, floats, strings, tuples and lists, so that
``torch.load(weights_only=True)`` reads them without any allow-list.
"""
import random

import numpy as np
import torch


def capture_rng_state() -> dict:
    """Python's, numpy's, torch's CPU and (if initialised) CUDA states."""
    version, internal, gauss = random.getstate()
    name, keys, pos, has_gauss, cached = np.random.get_state()
    state = dict(
        python=(version, list(internal), gauss),
        numpy=(name, torch.from_numpy(keys.astype(np.int64)), int(pos),
               int(has_gauss), float(cached)),
        torch=torch.get_rng_state(),
    )
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: dict) -> None:
    """Inverse of :func:`capture_rng_state`."""
    version, internal, gauss = state['python']
    random.setstate((version, tuple(internal), gauss))
    name, keys, pos, has_gauss, cached = state['numpy']
    np.random.set_state(
        (name, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state['torch'])
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['cuda'])
