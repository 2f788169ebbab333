import pytest
import torch
from mmengine.dataset import default_collate

from mmbyol.evaluation import KNNAccuracy, KNNEvalDataset, knn_evaluate
from mmbyol.functional import pool_features
from mmbyol.registry import MODELS
from mmbyol import register_all_modules
from tests.conftest import tiny_byol_cfg
from tests.engine.hooks.test_knn_hook import BANK, QUERY


def test_dataset_tags_and_metric_matches_direct_knn():
    register_all_modules()
    data = KNNEvalDataset(bank=BANK, query=QUERY)
    assert len(data) == 90 and data.num_bank == 60
    assert data[59]['data_samples'].knn_bank
    assert not data[60]['data_samples'].knn_bank
    assert not data[-1]['data_samples'].knn_bank

    torch.manual_seed(0)
    model = MODELS.build(tiny_byol_cfg(data_preprocessor=dict(
        type='SelfSupDataPreprocessor', mean=[127.5] * 3, std=[127.5] * 3)))
    model.eval()
    metric = KNNAccuracy(k=10, topk=(1, 3))
    feats, labels, is_bank = [], [], []
    with torch.no_grad():
        for start in range(0, len(data), 32):  # as MMEngine's ValLoop does
            batch = default_collate(
                [data[i] for i in range(start, min(start + 32, len(data)))])
            prepared = model.data_preprocessor(batch, False)
            outputs = model(**prepared, mode='predict')
            metric.process(batch, [o.to_dict() for o in outputs])
            feats.append(pool_features(model.backbone(prepared['inputs'])))
            labels += [int(s.gt_label) for s in outputs]
            is_bank += [bool(s.knn_bank) for s in outputs]
    feats, labels = torch.cat(feats), torch.tensor(labels)
    mask = torch.tensor(is_bank)
    ref = knn_evaluate(feats[mask], labels[mask], feats[~mask],
                       labels[~mask], k=10, topk=(1, 3))
    assert metric.evaluate(len(data)) == pytest.approx(
        {'knn/top1': ref['top1'], 'knn/top3': ref['top3']})
