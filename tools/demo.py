"""`make demo`: pretrain BYOL on the embedded digits, then compare kNN top-1
on held-out digits for the BYOL encoder and the same encoder at random init.

The console shows one line, a progress bar and the result; the full INFO
log goes to the work dir's log file.
"""
import argparse
import copy
import json
import logging
import time

from mmengine.config import Config, DictAction
from mmengine.dataset import default_collate
from mmengine.hooks import Hook
from torch.utils.data import DataLoader
from tqdm import tqdm

from mmbyol import register_all_modules
from mmbyol.engine.runner import ReliableRunner
from mmbyol.evaluation.features import extract_features
from mmbyol.evaluation.knn import knn_evaluate
from mmbyol.registry import DATASETS


def knn_top1(backbone, preprocessor, bank, query, k):
    """kNN top-1 of the held-out digits against the labelled training bank."""
    def encode(dataset):
        loader = DataLoader(dataset, 256, collate_fn=default_collate)
        return extract_features(backbone, preprocessor, loader,
                                progress=False)

    (bank_x, bank_y), (query_x, query_y) = encode(bank), encode(query)
    return knn_evaluate(bank_x, bank_y, query_x, query_y, num_classes=10,
                        k=k, topk=(1, ))['top1']


class QuietConsoleRunner(ReliableRunner):
    """The configs' runner, with only warnings on the console: INFO (config,
    environment, per-iteration losses) goes to the log file alone. The
    stack's deprecation notices stay in the file too."""

    def build_logger(self, *args, **kwargs):
        logger = super().build_logger(*args, **kwargs)
        for handler in logger.handlers:
            if not isinstance(handler, logging.FileHandler):  # the console
                handler.setLevel(logging.WARNING)
                handler.addFilter(
                    lambda record: 'deprecated' not in record.getMessage())
        return logger


class ProgressBarHook(Hook):
    """A progress bar with ETA and the loss over all training iterations."""

    def before_train(self, runner):
        self.bar = tqdm(total=runner.max_iters, initial=runner.iter,
                        desc='BYOL pretraining', unit='it')

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        if outputs and 'loss' in outputs:
            self.bar.set_postfix(loss=f"{float(outputs['loss']):.3f}",
                                 refresh=False)
        self.bar.update()

    def after_train(self, runner):
        self.bar.close()


class SnapshotInitHook(Hook):
    """Keeps a copy of the encoder as initialised, before the first step."""

    def before_train(self, runner):
        self.initial_backbone = copy.deepcopy(runner.model.backbone)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        '--config',
        default='configs/byol_resnet18-w16_1xb128-coslr-50e_digits.py')
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
    bank = DATASETS.build(cfg.knn_bank)
    query = DATASETS.build(cfg.knn_query)
    runner = QuietConsoleRunner.from_cfg(cfg)
    snapshot = SnapshotInitHook()
    runner.register_hook(snapshot, priority='VERY_LOW')
    runner.register_hook(ProgressBarHook(), priority='VERY_LOW')
    n = cfg.train_cfg.max_epochs
    epochs = f"{n} epoch{'' if n == 1 else 's'}"
    print(f'Pretraining BYOL for {epochs} on {len(bank)} scikit-learn '
          f'digits, then kNN top-1 on {len(query)} held-out digits against '
          f'random init. Full log: {runner.logger.log_file}', flush=True)
    start = time.time()
    model = runner.train()
    minutes = (time.time() - start) / 60

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
    print(f"\n| encoder | kNN top-1 (k={args.k}, held-out digits) |\n"
          f'|---|---|\n'
          f"| random init | {result['knn_top1_random_init']:.3f} |\n"
          f"| BYOL, {epochs} ({minutes:.1f} min) "
          f"| {result['knn_top1_byol']:.3f} |\n"
          f"BYOL gain: {result['gain_points']:+.1f} points\n")
    print(json.dumps(result))


if __name__ == '__main__':
    main()
