"""kNN accuracy of a BYOL checkpoint's online encoder:
``python tools/knn_eval.py CONFIG CKPT`` prints JSON with top-1/top-5.

The model is built from CONFIG exactly as the Runner builds it (its
top-level ``data_preprocessor`` included), so features are normalised as
in training. The labelled sets come from ``--bank DIR --query DIR``
(class-folder trees: the folder that holds an image is its class; images
read as RGB, resized so the short side equals the training views' side,
centre-cropped), or from the config: ``knn_bank``/``knn_query`` (dataset
dicts) or the loaders of a ``KNNHook``. CKPT is a BYOL checkpoint
(``backbone.*`` is used, never ``target_backbone.*``) or a file written by
``tools/extract_backbone.py``; ``--random-init`` evaluates the untrained
encoder instead.
"""
import argparse
import json
import sys

import torch
from mmengine.config import Config, DictAction
from mmengine.runner import Runner

from mmbyol import register_all_modules
from mmbyol.datasets import view_size
from mmbyol.engine.runner import build_model
from mmbyol.evaluation import extract_features, knn_evaluate
from mmbyol.utils.errors import MMBYOLError
from mmbyol.utils.export import (load_checkpoint_file, model_state_dict,
                                 online_backbone_state)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint', nargs='?')
    parser.add_argument('--random-init', action='store_true',
                        help='evaluate the encoder as initialised')
    parser.add_argument('--bank', metavar='DIR',
                        help='labelled class-folder tree of the kNN bank')
    parser.add_argument('--query', metavar='DIR',
                        help='labelled class-folder tree of held-out images')
    parser.add_argument('--k', type=int, default=200)
    parser.add_argument('--temperature', type=float, default=0.1)
    parser.add_argument('--batch-size', type=int, default=256)
    parser.add_argument('--num-workers', type=int, default=2)
    parser.add_argument('--device', default='cuda'
                        if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args(argv)
    if (args.checkpoint is None) == (not args.random_init):
        parser.error('give CKPT or --random-init (not both)')
    if (args.bank is None) != (args.query is None):
        parser.error('--bank and --query go together')
    return args


def folder_set(root: str, size: int) -> dict:
    """A labelled class-folder tree with the evaluation pipeline."""
    return dict(dataset=dict(
        type='ImageFolderDataset', data_root=root, with_label=True,
        pipeline=[
            dict(type='LoadRGBImage'),
            dict(type='ResizeEdge', scale=size, edge='short',
                 backend='pillow'),
            dict(type='CenterCrop', crop_size=size),
            dict(type='PackInputs'),
        ]))


def knn_sets(cfg: Config, args):
    """``(bank, query)`` data-loader configs."""
    if args.bank is not None:
        pipeline = cfg.get('train_dataloader', {}).get('dataset', {}).get(
            'pipeline', [])
        size = view_size(pipeline)
        return folder_set(args.bank, size), folder_set(args.query, size)
    if cfg.get('knn_bank') and cfg.get('knn_query'):
        return dict(dataset=cfg.knn_bank), dict(dataset=cfg.knn_query)
    for hook in cfg.get('custom_hooks', []):
        if hook.get('type') == 'KNNHook':
            return hook['bank_dataloader'], hook['query_dataloader']
    raise KeyError('the config names no kNN sets: give --bank DIR --query '
                   'DIR, or add knn_bank/knn_query dataset dicts or a '
                   'KNNHook to custom_hooks')


def load_online_backbone(model, checkpoint: str) -> None:
    """Load the online encoder into ``model.backbone`` (strict)."""
    state = model_state_dict(load_checkpoint_file(checkpoint))
    if any(k.startswith('backbone.') for k in state):
        state = online_backbone_state(state)
    model.backbone.load_state_dict(state, strict=True)


def loader(cfg, args):
    cfg = dict(cfg)
    cfg.update(batch_size=args.batch_size, num_workers=args.num_workers,
               persistent_workers=False,
               sampler=dict(type='DefaultSampler', shuffle=False),
               collate_fn=dict(type='default_collate'))
    return Runner.build_dataloader(cfg)


def main(argv=None):
    args = parse_args(argv)
    register_all_modules()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    try:
        bank_cfg, query_cfg = knn_sets(cfg, args)
        model = build_model(cfg)
        model.init_weights()
        if not args.random_init:
            load_online_backbone(model, args.checkpoint)
        model.to(args.device)
        loaders = [loader(c, args) for c in (bank_cfg, query_cfg)]
        classes = [ld.dataset.metainfo.get('classes') for ld in loaders]
        if None not in classes and tuple(classes[0]) != tuple(classes[1]):
            sys.exit('error: the kNN bank and query sets have different '
                     f'classes ({len(classes[0])} and {len(classes[1])})')
        feats = [extract_features(model.backbone, model.data_preprocessor,
                                  ld) for ld in loaders]
    except KeyError as err:
        sys.exit(f'error: {err.args[0]}')
    except MMBYOLError as err:
        sys.exit(f'error: {err}')
    (bank_x, bank_y), (query_x, query_y) = feats
    accs = knn_evaluate(bank_x, bank_y, query_x, query_y, k=args.k,
                        temperature=args.temperature)
    result = dict(
        checkpoint=args.checkpoint or 'random init', k=args.k,
        temperature=args.temperature, bank=len(bank_y),
        query=len(query_y), **accs)
    print(json.dumps(result))
    print(f"\n| encoder | kNN top-1 | kNN top-5 |\n|---|---|---|\n"
          f"| {result['checkpoint']} | {accs['top1']:.4f} | "
          f"{accs.get('top5', float('nan')):.4f} |")
    return result


if __name__ == '__main__':
    main()
