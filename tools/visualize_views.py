"""Draw source images next to their BYOL views T and T'.

    python tools/visualize_views.py CONFIG --out views.png [--num 6]

Reads the training dataset and the ``BYOLViews`` settings (size, colour
convention, view specs) of CONFIG and draws, per row, one source image and
``--draws`` samples of each view distribution, with every augmentation
applied (as the model receives them, before normalisation).
"""
import argparse
import os.path as osp

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from mmengine.config import Config, DictAction  # noqa: E402

from mmbyol import register_all_modules  # noqa: E402
from mmbyol.registry import DATASETS, TRANSFORMS  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('--out', default='views.png', help='PNG to write')
    parser.add_argument('--num', type=int, default=6, help='source images')
    parser.add_argument('--draws', type=int, default=2,
                        help='samples of T and of T\' per image')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config keys, as in tools/train.py')
    return parser.parse_args(argv)


def views_settings(cfg: Config) -> dict:
    """The BYOLViews arguments of the training pipeline, photometric on."""
    dataset = cfg.train_dataloader.dataset
    while 'pipeline' not in dataset and 'dataset' in dataset:
        dataset = dataset.dataset
    for step in dataset.get('pipeline', []):
        if step.get('type') in ('BYOLViews', 'mmbyol.BYOLViews'):
            args = {k: v for k, v in step.items() if k != 'type'}
            args['photometric'] = True
            pre = cfg.get('data_preprocessor') or {}
            if pre.get('augment_on_device') and pre.get('view_specs'):
                args.setdefault('view_specs', pre['view_specs'])
            return args
    raise ValueError('the training pipeline has no BYOLViews step')


def main(argv=None) -> str:
    args = parse_args(argv)
    register_all_modules()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    views = TRANSFORMS.build(dict(type='BYOLViews', **views_settings(cfg)))
    dataset_cfg = cfg.train_dataloader.dataset.copy()
    dataset_cfg['pipeline'] = [dict(type='LoadRGBImage')]
    dataset = DATASETS.build(dataset_cfg)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    picks = rng.choice(len(dataset), min(args.num, len(dataset)),
                       replace=False)
    cols = 1 + 2 * args.draws
    fig, axes = plt.subplots(len(picks), cols, squeeze=False,
                             figsize=(1.6 * cols, 1.6 * len(picks)))
    titles = ['source'] + [f'T #{i + 1}' for i in range(args.draws)] + \
        [f"T' #{i + 1}" for i in range(args.draws)]
    for row, index in enumerate(picks):
        source = dataset[int(index)]['img']
        draws = [views.transform(dict(img=source))['img']
                 for _ in range(args.draws)]
        images = [source] + [d[0] for d in draws] + [d[1] for d in draws]
        for col, img in enumerate(images):
            ax = axes[row, col]
            ax.imshow(img)
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                ax.set_title(titles[col], fontsize=8)
    fig.suptitle(f'{osp.basename(args.config)}: views of {len(picks)} '
                 f'images ({views.convention})', fontsize=9)
    fig.tight_layout()
    fig.savefig(args.out, dpi=100)
    plt.close(fig)
    print(f'wrote {args.out}')
    return args.out


if __name__ == '__main__':
    main()
