from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import default_collate

from mmbyol.functional import pool_features
from mmbyol.registry import DATASETS, MODELS
from mmbyol import register_all_modules
from tests.evaluation.test_knn import brute_force_scores
from tests.conftest import load_script, tiny_byol_cfg
from tests.engine.runner._tiny import tiny_cfg, train

REPO = Path(__file__).resolve().parents[2]
CONFIG = str(REPO / 'configs' / 'byol_resnet18-w16_1xb128-coslr-50e_digits.py')
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


def _digits(split, count):
    return dict(type='DigitsDataset', split=split, image_size=16,
                indices=count, pipeline=[dict(type='PackInputs')])


def test_knn_eval_reproduces_the_runs_own_knn_hook(tmp_path):
    """The config keeps its data preprocessor at the top level, as every
    shipped config does: knn_eval must normalise as the run did."""
    register_all_modules()
    cfg = tiny_cfg(tmp_path, loop='iter', max_iters=4, ckpt_interval=4)
    cfg.data_preprocessor = dict(type='SelfSupDataPreprocessor',
                                 mean=[127.5] * 3, std=[127.5] * 3)
    cfg.custom_hooks = cfg.custom_hooks + [dict(
        type='KNNHook', bank_dataloader=dict(dataset=_digits('train', 120)),
        query_dataloader=dict(dataset=_digits('test', 60)), k=5,
        by_epoch=False, interval=4, topk=(1, 5))]
    runner = train(cfg)
    hook = {k: runner.message_hub.get_scalar(f'knn/{k}').current()
            for k in ('top1', 'top5')}
    cfg.dump(str(tmp_path / 'cfg.py'))
    out = tool().main([str(tmp_path / 'cfg.py'),
                       str(tmp_path / 'iter_4.pth'), '--k', '5',
                       '--num-workers', '0'])
    assert (out['top1'], out['top5']) == (hook['top1'], hook['top5'])


def test_build_model_takes_the_top_level_preprocessor():
    from mmbyol.engine.runner import build_model
    register_all_modules()
    cfg = Config(dict(default_scope='mmbyol', model=tiny_byol_cfg(),
                      data_preprocessor=dict(
                          type='SelfSupDataPreprocessor', mean=[1.0] * 3,
                          std=[2.0] * 3)))
    model = build_model(cfg)
    assert model.data_preprocessor.std.flatten().tolist() == [2.0] * 3


def test_knn_eval_on_class_folder_trees(tmp_path, cifar_folder):
    """--bank/--query take labelled trees of any depth: a nested tree's
    leaf folders are its classes."""
    import shutil
    register_all_modules()
    for split, names in (('bank', range(0, 12)), ('query', range(12, 20))):
        for cls in sorted(p.name for p in cifar_folder.iterdir()):
            group = 'vehicles' if cls in ('airplane', 'automobile', 'ship',
                                          'truck') else 'animals'
            dest = tmp_path / split / group / cls
            dest.mkdir(parents=True)
            for i in names:
                shutil.copy(cifar_folder / cls / f'{i:04d}.jpg', dest)
    cfg = tmp_path / 'cfg.py'
    cfg.write_text("_base_ = ['%s']\n" % str(
        REPO / 'configs' / 'byol_resnet18-w16_1xb128-coslr-200e_cifar10-24px.py'))
    out = tool().main([str(cfg), '--random-init', '--bank',
                       str(tmp_path / 'bank'), '--query',
                       str(tmp_path / 'query'), '--k', '5',
                       '--num-workers', '0'])
    assert (out['bank'], out['query']) == (120, 80)
    assert 0.1 <= out['top1'] <= 1 and out['top5'] >= out['top1']
