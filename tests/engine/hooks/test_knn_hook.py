import json
from pathlib import Path

import pytest
import torch
from mmengine.dataset import default_collate
from mmengine.runner import Runner
from torch.utils.data import DataLoader

import mmbyol.engine.hooks.knn_hook as knn_hook_module
from mmbyol.engine.hooks import KNNHook
from mmbyol.evaluation import knn_evaluate
from mmbyol.functional import pool_features
from mmbyol.registry import DATASETS
from mmbyol import register_all_modules
from tests.conftest import tiny_byol_cfg

SIZE = 16
BANK = dict(type='DigitsDataset', split='train', image_size=SIZE,
            indices=60, pipeline=[dict(type='PackInputs')])
QUERY = dict(type='DigitsDataset', split='test', image_size=SIZE,
             indices=30, pipeline=[dict(type='PackInputs')])


def tiny_runner(work_dir, custom_hooks, iters=2, **kwargs):
    # MMEngine names the logger and visualizer instances after the start
    # second: two runners started in the same second would share them (and
    # write to the first one's vis_data). One name per work dir avoids it.
    kwargs.setdefault('experiment_name',
                      'run-' + '-'.join(Path(work_dir).parts[-2:]))
    view = [dict(type='RandomResizedCrop', scale=SIZE,
                 crop_ratio_range=(0.3, 1.0), backend='pillow')]
    return Runner(
        model=tiny_byol_cfg(data_preprocessor=dict(
            type='SelfSupDataPreprocessor', mean=[127.5] * 3,
            std=[127.5] * 3)),
        work_dir=str(work_dir),
        train_dataloader=dict(
            batch_size=16, num_workers=0, drop_last=True,
            sampler=dict(type='DefaultSampler', shuffle=True),
            collate_fn=dict(type='default_collate'),
            dataset=dict(type='DigitsDataset', split='train',
                         image_size=SIZE, indices=16 * iters,
                         pipeline=[dict(type='MultiView', num_views=2,
                                        transforms=[view]),
                                   dict(type='PackInputs')])),
        train_cfg=dict(type='IterBasedTrainLoop', max_iters=iters),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.05,
                                          momentum=0.9)),
        custom_hooks=[dict(type='BYOLMomentumHook', base_tau=0.99)] +
        custom_hooks,
        default_hooks=dict(logger=dict(type='LoggerHook', interval=1),
                           checkpoint=None),
        default_scope='mmbyol',
        randomness=dict(seed=0),
        **kwargs)


def reference(model, k):
    """kNN accuracy recomputed here from the online backbone in eval mode."""
    feats = {}
    model.eval()
    with torch.no_grad():
        for name, cfg in (('bank', BANK), ('query', QUERY)):
            batch = default_collate(list(DATASETS.build(cfg)))
            data = model.data_preprocessor(batch, False)
            feats[name] = (pool_features(model.backbone(data['inputs'])),
                           torch.tensor([int(s.gt_label)
                                         for s in data['data_samples']]))
    model.train()
    return knn_evaluate(*feats['bank'], *feats['query'], k=k)


def test_args_are_checked():
    with pytest.raises(ValueError, match='interval'):
        KNNHook(dict(dataset=BANK), dict(dataset=QUERY), interval=0)
    with pytest.raises(ValueError, match='temperature'):
        KNNHook(dict(dataset=BANK), dict(dataset=QUERY), temperature=0)


def test_knn_hook_in_a_real_run(tmp_path, monkeypatch):
    register_all_modules()
    seen = []
    original = knn_hook_module.extract_features

    def spy(backbone, *args, **kwargs):
        seen.append(backbone)
        return original(backbone, *args, **kwargs)

    monkeypatch.setattr(knn_hook_module, 'extract_features', spy)
    runner = tiny_runner(tmp_path, [
        dict(type='KNNHook', bank_dataloader=dict(dataset=BANK),
             query_dataloader=dict(dataset=QUERY, batch_size=7),
             interval=2, by_epoch=False, k=10, eval_before_train=True)
    ])
    runner.train()
    hook = next(h for h in runner.hooks if isinstance(h, KNNHook))
    model = runner.model

    # before training (step 0) and after iteration 2
    assert [step for step, _ in hook.history] == [0, 2]
    # always the online encoder, never the target copy
    assert seen and all(b is model.backbone for b in seen)
    assert model.training and model.backbone.training
    ref = reference(model, k=10)
    assert hook.history[-1][1] == pytest.approx(
        {f'knn/{n}': v for n, v in ref.items()})
    # the target network does not enter: scrambling it changes nothing
    with torch.no_grad():
        for p in model.target_backbone.parameters():
            p.normal_()
    assert hook.evaluate(runner, step=2) == hook.history[-2][1]
    assert runner.message_hub.get_scalar('knn/top1').current() == \
        pytest.approx(ref['top1'])

    scalars = next(Path(tmp_path).rglob('vis_data/scalars.json'))
    rows = [json.loads(line) for line in scalars.read_text().splitlines()]
    knn_rows = [r for r in rows if 'knn/top1' in r]
    assert [r['step'] for r in knn_rows] == [0, 2, 2]


def test_dataloader_objects_are_accepted(tmp_path):
    register_all_modules()
    bank = DataLoader(DATASETS.build(BANK), batch_size=32,
                      collate_fn=default_collate)
    query = DataLoader(DATASETS.build(QUERY), batch_size=32,
                       collate_fn=default_collate)
    hook = KNNHook(bank, query, k=10, topk=(1, ))
    runner = tiny_runner(tmp_path, [], iters=1)
    runner.register_hook(hook)
    runner.train()  # by epoch: the run's single iteration is its last epoch
    assert len(hook.history) == 1
    assert set(hook.history[0][1]) == {'knn/top1'}
