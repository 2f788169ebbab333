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
encoder keys carry over unchanged after the prefix, so they load only when
the learner wraps the Runner backbone's class (e.g. MMPretrain's ``ResNet``
with ``hidden_layer=None``); a torchvision ResNet's names differ from
MMPretrain's and ``load_state_dict`` reports the mismatch.
"""
from collections import OrderedDict
from typing import Dict, Tuple, Union

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


def learner_to_runner(state: Dict[str, torch.Tensor]) -> dict:
    """A learner ``state_dict()`` -> a checkpoint the Runner loads
    (``load_from``, ``mmengine.runner.load_checkpoint``): ``state_dict``
    (weights on the CPU), ``byol_momentum`` and ``meta``."""
    weights, _ = _rename(
        {k: v.detach().cpu() for k, v in state.items() if k != EXTRA_STATE},
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
    """See :func:`learner_to_runner`."""
    return learner_to_runner(learner.state_dict())


def load_runner_checkpoint(learner, checkpoint: Union[str, dict],
                           strict: bool = True) -> list:
    """Load a Runner ``BYOL`` checkpoint (path or dict) into ``learner``;
    returns the checkpoint keys that were not used."""
    if isinstance(checkpoint, str):
        # weights_only=True, with the allow-list for MMEngine's logging
        # state; refuses files that ask for anything else
        checkpoint = load_checkpoint_safely(checkpoint)
    weights, skipped = runner_to_learner(checkpoint)
    if EXTRA_STATE not in weights:  # a bare state_dict: keep the counter
        weights[EXTRA_STATE] = learner.get_extra_state()
    learner.load_state_dict(weights, strict=strict)
    return skipped
