"""Pooled encoder features of a labelled data set, sharded across ranks.

Used by :class:`mmbyol.engine.hooks.KNNHook`, ``tools/knn_eval.py`` and
``benchmarks/quality.py``: one implementation of "run the online
encoder in eval mode over a data loader and gather the features".
"""
from typing import Callable, Optional, Tuple

import torch
import torch.nn as nn
from mmengine.dist import collect_results, get_rank, is_distributed
from mmengine.utils import ProgressBar

from mmbyol.functional import pool_features


def _label(sample) -> int:
    label = sample.gt_label if hasattr(sample, 'gt_label') else sample[
        'gt_label']
    return int(label.reshape(-1)[0]) if torch.is_tensor(label) else int(
        label)


@torch.no_grad()
def extract_features(backbone: nn.Module,
                     data_preprocessor: Callable,
                     dataloader,
                     collect_device: str = 'cpu',
                     progress: bool = True
                     ) -> Optional[Tuple[torch.Tensor, torch.Tensor]]:
    """Features ``(N, C)`` (float32, CPU) and labels ``(N,)`` of a data set.

    The backbone runs in eval mode (BatchNorm uses running statistics) and
    is put back into its previous mode afterwards. Each rank encodes the
    shard its sampler gives it; :func:`mmengine.dist.collect_results`
    gathers the shards in data-set order and drops the sampler's padding.

    Args:
        backbone (nn.Module): the encoder (BYOL's online ``backbone``).
        data_preprocessor (callable): ``data_preprocessor(batch, False)``
            returns ``dict(inputs=..., data_samples=...)``; samples carry
            ``gt_label``.
        dataloader: an iterable of collated batches (a sampler that shards
            across ranks when distributed, no shuffling).
        collect_device (str): ``'cpu'`` or ``'gpu'`` for the gather.
        progress (bool): draw a progress bar on rank 0.

    Returns:
        ``(features, labels)`` on rank 0 (on every rank when not
        distributed); None on the other ranks.
    """
    was_training = backbone.training
    backbone.eval()
    device = next(backbone.parameters()).device
    results = []
    bar = ProgressBar(len(dataloader)) if progress and get_rank() == 0 \
        else None
    try:
        for batch in dataloader:
            data = data_preprocessor(batch, False)
            inputs = data['inputs']
            if isinstance(inputs, (list, tuple)):  # a multi-view pipeline
                inputs = inputs[0]
            feats = pool_features(backbone(inputs.to(device))).float()
            if collect_device == 'cpu':
                feats = feats.cpu()
            results.extend(
                (feat, _label(sample))
                for feat, sample in zip(feats, data['data_samples']))
            if bar is not None:
                bar.update()
    finally:
        backbone.train(was_training)
    if bar is not None:
        print()
    if is_distributed():
        results = collect_results(results, len(dataloader.dataset),
                                  collect_device)
        if results is None:
            return None
    if not results:
        raise ValueError('the data loader gave no samples')
    feats = torch.stack([f.cpu() for f, _ in results])
    labels = torch.tensor([y for _, y in results], dtype=torch.long)
    return feats, labels
