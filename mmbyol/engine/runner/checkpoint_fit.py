"""Whether a checkpoint's weights fit a model: one error that says what
does not match, instead of training on from random weights."""
from typing import Dict, List

import torch
import torch.nn as nn

from mmbyol.utils.errors import MMBYOLError


class CheckpointMismatchError(MMBYOLError):
    """A checkpoint that does not fit the model (or is not the kind of
    checkpoint asked for)."""


def _listed(names: List[str], limit: int = 3) -> str:
    shown = ', '.join(names[:limit])
    return shown + (f', ... ({len(names)} in all)' if len(names) > limit
                    else '')


def mismatches(model: nn.Module,
               state: Dict[str, torch.Tensor]) -> List[str]:
    """What keeps ``state`` from loading strictly into ``model``: missing
    and unexpected keys, and tensors of another shape; empty if it fits."""
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    shapes = [
        f'{k}: checkpoint {tuple(v.shape)}, model {tuple(own[k].shape)}'
        for k, v in state.items() if k in own and hasattr(v, 'shape')
        and hasattr(own[k], 'shape') and tuple(v.shape) != tuple(own[k].shape)
    ]
    problems = []
    if missing:
        problems.append(f'{len(missing)} missing keys ({_listed(missing)})')
    if unexpected:
        problems.append(f'{len(unexpected)} unexpected keys '
                        f'({_listed(unexpected)})')
    if shapes:
        problems.append(f'{len(shapes)} tensors of another shape '
                        f'({_listed(shapes, 2)})')
    return problems
