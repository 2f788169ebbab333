import math

import pytest
import torch

from mmbyol.evaluation import (KNNAccuracy, knn_classify, knn_evaluate,
                               topk_accuracy)


def brute_force_scores(bank, bank_y, queries, num_classes, k, t):
    """Loop-by-loop reference: cosine to every bank item, k best vote."""
    out = []
    for q in queries.tolist():
        sims = []
        for b, y in zip(bank.tolist(), bank_y.tolist()):
            dot = sum(x * z for x, z in zip(q, b))
            norm = math.sqrt(sum(x * x for x in q)) * math.sqrt(
                sum(z * z for z in b))
            sims.append((dot / norm, y))
        sims.sort(key=lambda s: -s[0])
        votes = [0.0] * num_classes
        for sim, y in sims[:k]:
            votes[y] += math.exp(sim / t)
        out.append(votes)
    return torch.tensor(out)


@pytest.mark.parametrize('k,t', [(1, 0.1), (5, 0.1), (7, 0.5), (100, 0.07)])
def test_knn_matches_brute_force(k, t):
    g = torch.Generator().manual_seed(k)
    bank = torch.randn(40, 6, generator=g)
    bank_y = torch.randint(0, 4, (40, ), generator=g)
    queries = torch.randn(9, 6, generator=g)
    ref = brute_force_scores(bank, bank_y, queries, 4, min(k, 40), t)
    got = knn_classify(bank, bank_y, queries, 4, k=k, temperature=t,
                       chunk_size=4)
    torch.testing.assert_close(got, ref, rtol=1e-4, atol=1e-4)


def test_topk_and_evaluate():
    scores = torch.tensor([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2],
                           [0.1, 0.2, 0.7], [0.3, 0.4, 0.3]])
    labels = torch.tensor([1, 1, 0, 2])
    top1, top2 = topk_accuracy(scores, labels, (1, 2))
    assert top1 == pytest.approx(0.25)  # only row 0
    assert top2 == pytest.approx(0.5)  # rows 0, 1
    # Clean clusters: every query sits next to its own class.
    centers = torch.eye(3) * 10
    bank = centers.repeat_interleave(5, 0) + torch.randn(15, 3) * 0.1
    bank_y = torch.arange(3).repeat_interleave(5)
    res = knn_evaluate(bank, bank_y, centers, torch.arange(3), k=5,
                       topk=(1, ))
    assert res == {'top1': 1.0}
    with pytest.raises(ValueError):
        knn_evaluate(bank, bank_y, centers[:0], torch.arange(0))


def test_metric_splits_bank_and_query():
    torch.manual_seed(0)
    bank = torch.randn(30, 8)
    bank_y = torch.randint(0, 3, (30, ))
    queries = torch.randn(10, 8)
    query_y = torch.randint(0, 3, (10, ))
    metric = KNNAccuracy(k=4, temperature=0.2, topk=(1, 2), num_classes=3)
    samples = [
        dict(feature=f, gt_label=torch.tensor([int(y)]), knn_bank=True)
        for f, y in zip(bank, bank_y)
    ] + [
        dict(feature=f, gt_label=torch.tensor([int(y)]), knn_bank=False)
        for f, y in zip(queries, query_y)
    ]
    metric.process(None, samples[::2])  # order must not matter
    metric.process(None, samples[1::2])
    out = metric.evaluate(len(samples))
    ref = brute_force_scores(bank, bank_y, queries, 3, 4, 0.2)
    r1, r2 = topk_accuracy(ref, query_y, (1, 2))
    assert out == pytest.approx({'knn/top1': r1, 'knn/top2': r2})
    with pytest.raises(KeyError, match='KNNEvalDataset'):
        metric.process(None, [dict(feature=bank[0], gt_label=0)])
