"""Export BYOL's online encoder for use elsewhere.

BYOL checkpoints hold ``backbone.*`` (the online encoder :math:`f_\\theta`,
the one to transfer), ``neck.*``, ``head.*``, ``target_*`` (the EMA copy)
and ``data_preprocessor.*``. Export keeps ``backbone.*`` alone, without the
prefix. MMPretrain's and MMDetection's ``ResNet``, torchvision's
``resnet18/34/50/101/152`` and timm's ``resnet*`` (plain stem) share one key
layout (``conv1``, ``bn1``, ``layerN.M.convK``, ``...downsample.0/1``), and
SyncBN stores the same keys as BN, so the formats differ only in what
wraps the tensors and in which stems they accept:

=============  ================================  ===========================
format         file                              accepts
=============  ================================  ===========================
mmpretrain     ``{'state_dict': sd, 'meta'}``    any MMPretrain backbone
mmdet          ``{'state_dict': sd, 'meta'}``    ResNet with the 7x7 stem
torchvision    ``sd``                            plain-stem ResNet (no fc)
timm           ``sd``                            plain-stem ResNet (no fc)
=============  ================================  ===========================

``ResNet_CIFAR`` (3x3 stride-1 stem, no max-pool) keeps the same keys:
``mmpretrain`` loads into ``ResNet_CIFAR``; ``torchvision``/``timm`` load
only into a model whose ``conv1`` is ``Conv2d(3, C, 3, 1, 1, bias=False)``
and whose ``maxpool`` is ``Identity``; ``mmdet`` is refused.
"""
from collections import OrderedDict
from typing import Dict, Optional

import torch

FORMATS = ('mmpretrain', 'mmdet', 'torchvision', 'timm')


def load_checkpoint_file(path: str) -> dict:
    """The one place mmbyol's export/evaluation tools read a checkpoint.

    Uses ``torch.load(weights_only=True)``, with the allow-list of
    :mod:`mmbyol.utils.safe_load` for MMEngine's own objects when present.
    """
    try:
        from mmbyol.utils.safe_load import load_checkpoint_safely
    except ImportError:
        return torch.load(path, map_location='cpu', weights_only=True)
    return load_checkpoint_safely(path, map_location='cpu')


def model_state_dict(checkpoint: dict) -> Dict[str, torch.Tensor]:
    """The model's state dict from a checkpoint, without a DDP ``module.``."""
    state = checkpoint.get('state_dict', checkpoint)
    return OrderedDict(
        (k[len('module.'):] if k.startswith('module.') else k, v)
        for k, v in state.items())


def online_backbone_state(state: Dict[str, torch.Tensor],
                          prefix: str = 'backbone.'
                          ) -> Dict[str, torch.Tensor]:
    """``backbone.*`` without the prefix: the online encoder, never
    ``target_backbone.*``."""
    out = OrderedDict((k[len(prefix):], v) for k, v in state.items()
                      if k.startswith(prefix))
    if not out:
        raise KeyError(f'no "{prefix}*" keys in the checkpoint (keys start '
                       f'with {sorted({k.split(".")[0] for k in state})}); '
                       'is it a BYOL checkpoint?')
    return out


def stem_kind(backbone_state: Dict[str, torch.Tensor]) -> str:
    """``'imagenet'`` (7x7 conv1), ``'cifar'`` (3x3 conv1) or ``'deep'``."""
    if any(k.startswith('stem.') for k in backbone_state):
        return 'deep'
    conv1 = backbone_state.get('conv1.weight')
    if conv1 is None:
        return 'other'
    return 'cifar' if conv1.shape[-1] == 3 else 'imagenet'


def convert_backbone(backbone_state: Dict[str, torch.Tensor],
                     fmt: str) -> Dict[str, torch.Tensor]:
    """Check that ``fmt`` can hold this encoder; return its state dict.

    Raises:
        ValueError: unknown format, or a stem the format cannot load.
    """
    if fmt not in FORMATS:
        raise ValueError(f'format must be one of {FORMATS}, got {fmt!r}')
    stem = stem_kind(backbone_state)
    if fmt == 'mmdet' and stem != 'imagenet':
        raise ValueError(
            f'mmdet export needs a ResNet with the 7x7 ImageNet stem; this '
            f'encoder has a {stem} stem (ResNet_CIFAR?). Export it as '
            '"mmpretrain" instead.')
    if fmt in ('torchvision', 'timm') and stem in ('deep', 'other'):
        raise ValueError(
            f'{fmt} export needs a torchvision-layout ResNet (conv1/bn1/'
            f'layerN); this encoder has a {stem} stem. Export it as '
            '"mmpretrain" instead.')
    return OrderedDict((k, v.detach().clone().contiguous())
                       for k, v in backbone_state.items())


def export_backbone(checkpoint_path: str,
                    out_path: str,
                    fmt: str,
                    meta: Optional[dict] = None) -> dict:
    """Write the online encoder of a BYOL checkpoint in format ``fmt``.

    Returns:
        dict: a summary (``format``, ``num_tensors``, ``num_params``,
        ``stem``, ``out``).
    """
    state = convert_backbone(
        online_backbone_state(
            model_state_dict(load_checkpoint_file(checkpoint_path))), fmt)
    if fmt in ('mmpretrain', 'mmdet'):
        info = dict(source=str(checkpoint_path), exported_by='mmbyol',
                    format=fmt, module='online backbone')
        info.update(meta or {})
        torch.save(dict(state_dict=state, meta=info), out_path)
    else:
        torch.save(state, out_path)
    return dict(
        format=fmt,
        out=str(out_path),
        stem=stem_kind(state),
        num_tensors=len(state),
        num_params=sum(v.numel() for k, v in state.items()
                       if not k.endswith(('running_mean', 'running_var',
                                          'num_batches_tracked'))))
