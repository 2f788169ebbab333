"""`make demo`: pretrain BYOL on the embedded digits, then compare kNN top-1
on held-out digits for the BYOL encoder and the same encoder at random init.
"""
import argparse
import copy
import json
import time

from mmengine.config import Config, DictAction
from mmengine.dataset import default_collate
from mmengine.hooks import Hook
from torch.utils.data import DataLoader

from mmbyol.engine.runner import build_runner
from mmbyol.evaluation.features import extract_features
from mmbyol.evaluation.knn import knn_evaluate
from mmbyol.registry import DATASETS
from mmbyol import register_all_modules


def knn_top1(backbone, preprocessor, bank, query, k):
    """kNN top-1 of the held-out digits against the labelled training bank."""
    def encode(dataset):
        loader = DataLoader(dataset, 256, collate_fn=default_collate)
        return extract_features(backbone, preprocessor, loader)

    (bank_x, bank_y), (query_x, query_y) = encode(bank), encode(query)
    return knn_evaluate(bank_x, bank_y, query_x, query_y, num_classes=10,
                        k=k, topk=(1, ))['top1']


class SnapshotInitHook(Hook):
    """Keeps a copy of the encoder as initialised, before the first step."""

    def before_train(self, runner):
        self.initial_backbone = copy.deepcopy(runner.model.backbone)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--config', default='configs/byol_resnet18-w16_1xb128-coslr-50e_digits.py')
    parser.add_argument('--work-dir', default='work_dirs/demo')
    parser.add_argument('--k', type=int, default=20,
                        help='kNN neighbours (the digits set is small)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config keys')
    args = parser.parse_args()

    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(args.config)
    cfg.work_dir = args.work_dir
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    runner = build_runner(cfg)
    snapshot = SnapshotInitHook()
    runner.register_hook(snapshot, priority='VERY_LOW')
    start = time.time()
    model = runner.train()
    minutes = (time.time() - start) / 60

    bank = DATASETS.build(cfg.knn_bank)
    query = DATASETS.build(cfg.knn_query)
    pre = model.data_preprocessor
    result = dict(
        data=f'sklearn digits: {len(bank)} train (kNN bank, BYOL training '
        f'set), {len(query)} held out',
        knn_k=args.k,
        knn_top1_random_init=knn_top1(snapshot.initial_backbone, pre, bank,
                                      query, args.k),
        knn_top1_byol=knn_top1(model.backbone, pre, bank, query, args.k),
        train_minutes=round(minutes, 2),
    )
    result['gain_points'] = round(
        100 * (result['knn_top1_byol'] - result['knn_top1_random_init']), 1)
    print(json.dumps(result))
    print(f"\n| encoder | kNN top-1 (k={args.k}, held-out digits) |\n"
          f'|---|---|\n'
          f"| random init | {result['knn_top1_random_init']:.3f} |\n"
          f"| BYOL, {cfg.train_cfg.max_epochs} epochs "
          f"({minutes:.1f} min) | {result['knn_top1_byol']:.3f} |\n"
          f"BYOL gain: {result['gain_points']:+.1f} points")


if __name__ == '__main__':
    main()
