from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import default_collate

from mmbyol.functional import pool_features
from mmbyol.registry import DATASETS, MODELS
from mmbyol import register_all_modules
from tests.evaluation.test_knn import brute_force_scores
from tests.conftest import load_script

REPO = Path(__file__).resolve().parents[2]
CONFIG = str(REPO / 'configs' / 'byol_demo_digits.py')
SMALL = ['knn_bank.indices=80', 'knn_query.indices=40']


def tool():
    return load_script('tools/knn_eval.py')


def test_knn_eval_uses_the_online_encoder_of_the_checkpoint(tmp_path):
    register_all_modules()
    cfg = Config.fromfile(CONFIG)
    cfg.merge_from_dict(dict(knn_bank=dict(indices=80),
                             knn_query=dict(indices=40)))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    with torch.no_grad():  # make the target differ from the online encoder
        for p in model.target_backbone.parameters():
            p.mul_(-1)
    ckpt = tmp_path / 'byol.pth'
    torch.save(dict(state_dict=model.state_dict()), ckpt)

    out = tool().main([CONFIG, str(ckpt), '--k', '5', '--num-workers', '0',
                       '--cfg-options', *SMALL])

    model.eval()
    feats = []
    with torch.no_grad():
        for ds in (cfg.knn_bank, cfg.knn_query):
            batch = default_collate(list(DATASETS.build(ds)))
            data = model.data_preprocessor(batch, False)
            feats.append((pool_features(model.backbone(data['inputs'])),
                          torch.tensor([int(s.gt_label)
                                        for s in data['data_samples']])))
    (bx, by), (qx, qy) = feats
    scores = brute_force_scores(bx, by, qx, 10, 5, 0.1)
    top1 = (scores.argmax(1) == qy).float().mean().item()
    assert out['top1'] == pytest.approx(top1)
    assert out['bank'] == 80 and out['query'] == 40


def test_knn_eval_needs_sets_and_a_checkpoint(tmp_path):
    cfg = tmp_path / 'nosets.py'
    cfg.write_text("_base_ = ['%s']\nknn_bank = None\n" % CONFIG)
    with pytest.raises(SystemExit, match='no kNN sets'):
        tool().main([str(cfg), '--random-init'])
    with pytest.raises(SystemExit):
        tool().main([CONFIG])
