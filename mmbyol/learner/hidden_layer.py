"""Read a network's representation from one of its layers.

The layer is named (``'avgpool'``, ``'layer4.1'``), indexed among the
network's direct children (``-2``: the module before the classifier), or
``None`` for the network's own output (MMPretrain backbones).  Its output is
caught with a forward hook registered for one call only, so the hook never
outlives the forward pass, never holds on to activations, and a
``copy.deepcopy`` of the network (the target) carries no stale hook.
"""
from typing import Optional, Union

import torch
import torch.nn as nn

from mmbyol.functional import pool_features

LayerSpec = Optional[Union[str, int]]


def resolve_layer(net: nn.Module, layer: LayerSpec) -> Optional[nn.Module]:
    """The sub-module named or indexed by ``layer`` (``None``: no hook)."""
    if layer is None:
        return None
    if isinstance(layer, int):
        children = list(net.children())
        if not -len(children) <= layer < len(children):
            raise IndexError(f'hidden_layer={layer} but {type(net).__name__} '
                             f'has {len(children)} direct children')
        return children[layer]
    if isinstance(layer, str):
        try:
            return net.get_submodule(layer)
        except AttributeError:
            names = [n for n, _ in net.named_modules() if n][:30]
            raise KeyError(f'hidden_layer={layer!r} is not a sub-module of '
                           f'{type(net).__name__}; some names: {names}')
    raise TypeError('hidden_layer must be a module name (str), a child '
                    f'index (int) or None, got {type(layer).__name__}')


def to_vector(feats) -> torch.Tensor:
    """One ``(N, D)`` vector per sample.

    A tuple/list (MMPretrain backbones) gives its last element; ``(N, C, H,
    W)`` maps are averaged over space (as :func:`pool_features` does for the
    Runner's BYOL); ``(N, L, D)`` tokens are averaged over tokens; anything
    else is flattened.
    """
    if isinstance(feats, (tuple, list)):
        feats = feats[-1]
    if feats.dim() == 3:
        return feats.mean(dim=1)
    return pool_features(feats)


def represent(net: nn.Module, layer: LayerSpec,
              x: torch.Tensor) -> torch.Tensor:
    """Run ``net`` on ``x`` and return the chosen layer's output as ``(N, D)``.

    The network runs to its end (its later layers, e.g. a classifier, are
    computed and discarded); their parameters get no gradient.
    """
    module = resolve_layer(net, layer)
    if module is None:
        return to_vector(net(x))
    caught = []

    def hook(_module, _inputs, output):
        if not caught:  # first call wins if the module runs twice
            caught.append(output)

    handle = module.register_forward_hook(hook)
    try:
        net(x)
    finally:
        handle.remove()
    if not caught:
        raise RuntimeError(f'hidden_layer={layer!r} did not run during the '
                           f'forward pass of {type(net).__name__}')
    return to_vector(caught[0])
