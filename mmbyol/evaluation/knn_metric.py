from typing import List, Optional, Sequence

import torch
from mmengine.evaluator import BaseMetric

from mmbyol.registry import METRICS
from .knn import knn_evaluate


@METRICS.register_module()
class KNNAccuracy(BaseMetric):
    r"""Weighted kNN top-k accuracy of pooled features (Wu et al., 2018).

    For MMEngine's validation/test loops. The data set must deliver the
    labelled bank and the queries in one stream, each sample marked by a
    ``knn_bank`` metainfo flag: wrap them in :class:`KNNEvalDataset`. The
    model's ``predict`` puts the pooled features of the *online* encoder in
    ``DataSample.feature`` (:meth:`mmbyol.models.BYOL.predict`).

    Query :math:`x` gets class scores
    :math:`s_c = \sum_{i \in N_k(x), y_i = c} \exp(\cos(x, x_i) / t)` over
    its :math:`k` most cosine-similar bank features. Defaults (k = 200,
    t = 0.1) are the usual self-supervised monitor's.

    Results of every rank are gathered by :class:`BaseMetric` through
    :func:`mmengine.dist.collect_results` before :meth:`compute_metrics`.

    Args:
        k (int): neighbours. Defaults to 200.
        temperature (float): vote temperature. Defaults to 0.1.
        topk (Sequence[int]): top-k accuracies to report. Defaults to (1, 5).
        num_classes (int, optional): inferred from the labels when None.
        collect_device (str): ``'cpu'`` or ``'gpu'``.
        prefix (str): metric-name prefix. Defaults to ``'knn'``, giving
            ``knn/top1``, ``knn/top5``.
    """
    default_prefix = 'knn'

    def __init__(self,
                 k: int = 200,
                 temperature: float = 0.1,
                 topk: Sequence[int] = (1, 5),
                 num_classes: Optional[int] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if k < 1 or temperature <= 0:
            raise ValueError(f'need k >= 1 and temperature > 0, got k={k}, '
                             f'temperature={temperature}')
        self.k = k
        self.temperature = temperature
        self.topk = tuple(topk)
        self.num_classes = num_classes

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            if 'feature' not in sample or 'knn_bank' not in sample:
                raise KeyError(
                    'KNNAccuracy needs samples with "feature" (the model\'s '
                    'predict mode) and a "knn_bank" flag (wrap the data in '
                    'KNNEvalDataset); got keys ' + str(sorted(sample)))
            label = torch.as_tensor(sample['gt_label']).reshape(-1)[0]
            self.results.append(
                dict(
                    feature=sample['feature'].detach().float().cpu(),
                    label=int(label),
                    bank=bool(sample['knn_bank'])))

    def compute_metrics(self, results: List[dict]) -> dict:
        bank = [r for r in results if r['bank']]
        query = [r for r in results if not r['bank']]

        def stack(rows):
            return (torch.stack([r['feature'] for r in rows])
                    if rows else torch.empty(0),
                    torch.tensor([r['label'] for r in rows],
                                 dtype=torch.long))

        bank_x, bank_y = stack(bank)
        query_x, query_y = stack(query)
        return knn_evaluate(bank_x, bank_y, query_x, query_y,
                            self.num_classes, self.k, self.temperature,
                            self.topk)
