r"""Weighted k-nearest-neighbour classification of features (Wu et al., 2018).

The standard self-supervised monitor: cosine similarity to every labelled
training feature, the ``k`` most similar neighbours vote with weight
:math:`\exp(s / t)`.
"""
from typing import Dict, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F


@torch.no_grad()
def knn_classify(train_features: torch.Tensor,
                 train_labels: torch.Tensor,
                 test_features: torch.Tensor,
                 num_classes: int,
                 k: int = 200,
                 temperature: float = 0.1,
                 chunk_size: int = 1024) -> torch.Tensor:
    """Class scores ``(N_test, num_classes)`` from weighted kNN votes.

    Args:
        train_features (Tensor): ``(N_train, D)`` labelled bank.
        train_labels (Tensor): ``(N_train,)`` integer labels.
        test_features (Tensor): ``(N_test, D)`` queries.
        num_classes (int): number of classes.
        k (int): neighbours (clipped to ``N_train``). Defaults to 200.
        temperature (float): vote temperature. Defaults to 0.1.
        chunk_size (int): queries per similarity block, bounds memory.
    """
    if k < 1 or temperature <= 0:
        raise ValueError(f'need k >= 1 and temperature > 0, got k={k}, '
                         f'temperature={temperature}')
    bank = F.normalize(train_features.float(), dim=1)
    labels = train_labels.long().to(bank.device)
    k = min(k, bank.shape[0])
    scores = []
    for queries in test_features.float().split(chunk_size):
        sim = F.normalize(queries.to(bank.device), dim=1) @ bank.T
        top_sim, top_idx = sim.topk(k, dim=1)
        votes = torch.zeros(queries.shape[0], num_classes, device=bank.device)
        votes.scatter_add_(1, labels[top_idx], (top_sim / temperature).exp())
        scores.append(votes)
    return torch.cat(scores)


def topk_accuracy(scores: torch.Tensor, labels: torch.Tensor,
                  topk: Tuple[int, ...] = (1, 5)) -> Tuple[float, ...]:
    """Fraction of rows whose label is among the ``k`` highest scores."""
    ranked = scores.argsort(dim=1, descending=True)
    hits = ranked == labels.view(-1, 1).to(ranked.device)
    return tuple(
        hits[:, :min(k, scores.shape[1])].any(dim=1).float().mean().item()
        for k in topk)


def knn_evaluate(train_features: torch.Tensor,
                 train_labels: torch.Tensor,
                 test_features: torch.Tensor,
                 test_labels: torch.Tensor,
                 num_classes: Optional[int] = None,
                 k: int = 200,
                 temperature: float = 0.1,
                 topk: Sequence[int] = (1, 5)) -> Dict[str, float]:
    """:func:`knn_classify` then :func:`topk_accuracy`, as ``{'top1': ...}``.

    Args:
        num_classes (int, optional): inferred as ``max(label) + 1`` over
            both sets when None.
        Other args: see :func:`knn_classify`; ``topk`` lists the ``k`` of
        each top-k accuracy.
    """
    if len(train_labels) == 0 or len(test_labels) == 0:
        raise ValueError('kNN evaluation needs a non-empty labelled bank and '
                         f'query set, got {len(train_labels)} bank and '
                         f'{len(test_labels)} query samples')
    if num_classes is None:
        num_classes = int(max(train_labels.max(), test_labels.max())) + 1
    scores = knn_classify(train_features, train_labels, test_features,
                          num_classes, k=k, temperature=temperature)
    accs = topk_accuracy(scores, test_labels, tuple(topk))
    return {f'top{n}': acc for n, acc in zip(topk, accs)}
