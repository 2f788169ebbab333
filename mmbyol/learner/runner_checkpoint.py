"""Convert between a :class:`BYOLLearner` and a Runner checkpoint of ``BYOL``.

=========================  ==============================  =================
learner (``state_dict``)   Runner ``BYOL`` (``state_dict``)  role
=========================  ==============================  =================
``net.*``                  ``backbone.*``                    online encoder
``projector.*``            ``neck.*``                        online projector
``predictor.*``            ``head.predictor.*``              predictor
``target_net.*``           ``target_backbone.*``             target encoder
``target_projector.*``     ``target_neck.*``                 target projector
``_extra_state``           ``checkpoint['byol_momentum']``   EMA step and tau
=========================  ==============================  =================

Projector and predictor are the same :class:`BYOLNeck` on both sides.  The
encoder keys carry over unchanged after the prefix, so they load where the
two encoders share a key layout: the same class (an MMPretrain backbone
with ``hidden_layer=None``), or torchvision's ``resnet18/34/50/...`` read
at ``'avgpool'`` and MMPretrain's ``ResNet`` of the same depth (with a
3x3 stride-1 stem and no max-pool: ``ResNet_CIFAR``), whose keys are
identical except torchvision's classifier ``fc.*``.  The encoder's
parameters that the representation does not use
(``learner.unused_parameters``, such as ``fc.*``) are left out of the Runner
checkpoint, and keep the learner's values when loading one.  Other layouts
fail in ``load_state_dict`` with the list of mismatched keys.
"""
from collections import OrderedDict
from typing import Dict, Sequence, Tuple, Union

import torch

from mmbyol.utils.safe_load import load_checkpoint_safely

PREFIXES: Tuple[Tuple[str, str], ...] = (
    ('net.', 'backbone.'),
    ('projector.', 'neck.'),
    ('predictor.', 'head.predictor.'),
    ('target_net.', 'target_backbone.'),
    ('target_projector.', 'target_neck.'),
)
EXTRA_STATE = '_extra_state'


def _rename(state: Dict[str, torch.Tensor], to_runner: bool
            ) -> Tuple[Dict[str, torch.Tensor], list]:
    renamed, skipped = OrderedDict(), []
    for key, value in state.items():
        for learner_prefix, runner_prefix in PREFIXES:
            src, dst = ((learner_prefix, runner_prefix) if to_runner else
                        (runner_prefix, learner_prefix))
            if key.startswith(src):
                renamed[dst + key[len(src):]] = value
                break
        else:
            skipped.append(key)
    return renamed, skipped


def _encoder_keys(names: Sequence[str]) -> set:
    return {f'{prefix}{name}' for name in names
            for prefix in ('net.', 'target_net.')}


def learner_to_runner(state: Dict[str, torch.Tensor],
                      drop: Sequence[str] = ()) -> dict:
    """A learner ``state_dict()`` -> a checkpoint the Runner loads
    (``load_from``, ``mmengine.runner.load_checkpoint``): ``state_dict``
    (weights on the CPU), ``byol_momentum`` and ``meta``.  ``drop`` names
    encoder parameters (e.g. ``'fc.weight'``) to leave out."""
    dropped = _encoder_keys(drop) | {EXTRA_STATE}
    weights, _ = _rename(
        {k: v.detach().cpu() for k, v in state.items() if k not in dropped},
        to_runner=True)
    checkpoint = dict(
        meta=dict(converted_from='mmbyol.BYOLLearner'), state_dict=weights)
    extra = state.get(EXTRA_STATE)
    if extra is not None:
        checkpoint['byol_momentum'] = dict(
            steps=int(extra['steps']), tau=float(extra['tau']))
    return checkpoint


def runner_to_learner(checkpoint: dict) -> Tuple[dict, list]:
    """A Runner checkpoint (or its bare ``state_dict``) -> a learner
    ``state_dict`` and the Runner keys that have no place in the learner
    (e.g. an online linear probe)."""
    state = checkpoint.get('state_dict', checkpoint)
    state = {k[len('module.'):] if k.startswith('module.') else k: v
             for k, v in state.items()}
    weights, skipped = _rename(state, to_runner=False)
    momentum = checkpoint.get('byol_momentum')
    if momentum is not None:
        weights[EXTRA_STATE] = dict(
            steps=int(momentum['steps']), tau=float(momentum['tau']))
    return weights, skipped


def to_runner_checkpoint(learner) -> dict:
    """:func:`learner_to_runner` without ``learner.unused_parameters``."""
    return learner_to_runner(learner.state_dict(), learner.unused_parameters)


def load_runner_checkpoint(learner, checkpoint: Union[str, dict],
                           strict: bool = True) -> list:
    """Load a Runner ``BYOL`` checkpoint (path or dict) into ``learner``;
    returns the checkpoint keys that were not used."""
    if isinstance(checkpoint, str):
        # weights_only=True, with the allow-list for MMEngine's logging
        # state; refuses files that ask for anything else
        checkpoint = load_checkpoint_safely(checkpoint)
    weights, skipped = runner_to_learner(checkpoint)
    own = learner.state_dict()
    for key in _encoder_keys(learner.unused_parameters) | {EXTRA_STATE}:
        # e.g. torchvision's fc (not in the Runner's backbone), or the
        # step counter missing from a bare state_dict: keep the learner's
        weights.setdefault(key, own[key])
    learner.load_state_dict(weights, strict=strict)
    return skipped
