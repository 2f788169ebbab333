"""Whether a checkpoint's weights fit a model: one error that says what
does not match, instead of training on from random weights."""
import re
from typing import Callable, Dict, List

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


def check_resumable(filename: str, checkpoint: dict) -> None:
    """``checkpoint`` is a training checkpoint of the Runner (what
    ``--resume`` continues), not a file of weights."""
    meta = checkpoint.get('meta')
    missing = [k for k in ('state_dict', 'optimizer', 'message_hub')
               if k not in checkpoint]
    if not isinstance(meta, dict) or 'iter' not in meta or missing:
        what = ', '.join(missing + ([] if isinstance(meta, dict)
                                    and 'iter' in meta else ['meta']))
        raise CheckpointMismatchError(
            f'{filename} is not a training checkpoint of this runner (no '
            f'{what}): --resume continues a run; to start from its '
            f'weights use load_from={filename}')


def check_fits(model: nn.Module, filename: str, checkpoint: dict,
               revise_keys: list, partial: bool,
               warn: Callable[[str], None]) -> None:
    """Raise :class:`CheckpointMismatchError` when ``checkpoint`` does not
    fit ``model``; with ``partial``, warn instead (the tensors that fit are
    loaded, the rest keep their initial values)."""
    state = checkpoint.get('state_dict', checkpoint)
    for pattern, replacement in revise_keys:
        state = {re.sub(pattern, replacement, k): v
                 for k, v in state.items()}
    problems = mismatches(model, state)
    if not problems:
        return
    message = f'{filename} does not fit the model: {"; ".join(problems)}'
    if partial:
        warn(f'{message}; loading what fits (load_partial=True)')
        return
    raise CheckpointMismatchError(
        message + '. To load the tensors that fit and keep the rest as '
        'initialised, set load_partial=True (not for --resume)')
