"""Annotation files for kNN, linear and semi-supervised evaluation.

CIFAR-10 (a ``train/<class>/NNNN.jpg`` folder tree)::

    python tools/make_semi_subsets.py cifar10 --data-root data/cifar10

writes under ``data/cifar10/meta/``: ``train.txt`` (images 0-4499 of each
class), ``val.txt`` (the held-out images 4500-4999) and, drawn from
``train.txt``, class-balanced ``train_1pct_seed0.txt`` (45 per class) and
``train_10pct_seed0.txt`` (450 per class).

ImageNet, from SimCLR's subset files (``1percent.txt``, ``10percent.txt``)::

    python tools/make_semi_subsets.py imagenet --simclr-file 1percent.txt \
        --data-root data/imagenet --out data/imagenet/meta/train_1pct.txt
"""
import argparse
import json
import os
import os.path as osp

from mmbyol.evaluation.splits import (balanced_subset, held_out_split,
                                      scan_class_folders, simclr_subset,
                                      write_ann_file)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = parser.add_subparsers(dest='dataset', required=True)
    cifar = sub.add_parser('cifar10', help='held-out split + subsets')
    cifar.add_argument('--data-root', default='data/cifar10')
    cifar.add_argument('--prefix', default='train',
                       help='image folder under data-root')
    cifar.add_argument('--fractions', type=float, nargs='+',
                       default=[0.01, 0.1])
    cifar.add_argument('--seed', type=int, default=0)
    cifar.add_argument('--held-out', type=int, nargs=2,
                       default=[4500, 4999], metavar=('FIRST', 'LAST'),
                       help='image numbers held out of every class')
    imnet = sub.add_parser('imagenet', help='convert a SimCLR subset file')
    imnet.add_argument('--simclr-file', required=True)
    imnet.add_argument('--data-root', default='data/imagenet')
    imnet.add_argument('--prefix', default='train')
    imnet.add_argument('--out', required=True)
    return parser.parse_args(argv)


def cifar10(args) -> dict:
    classes, files = scan_class_folders(osp.join(args.data_root, args.prefix))
    train, val = held_out_split(classes, files, *args.held_out)
    meta = osp.join(args.data_root, 'meta')
    written = {'train.txt': train, 'val.txt': val}
    for fraction in args.fractions:
        name = f'train_{fraction * 100:g}pct_seed{args.seed}.txt'
        written[name] = balanced_subset(train, fraction, args.seed)
    for name, samples in written.items():
        write_ann_file(osp.join(meta, name), samples)
    return dict(classes=classes, meta=meta,
                files={n: len(s) for n, s in written.items()})


def imagenet(args) -> dict:
    root = osp.join(args.data_root, args.prefix)
    classes = sorted(d for d in os.listdir(root)
                     if osp.isdir(osp.join(root, d)))
    with open(args.simclr_file, encoding='utf-8') as f:
        samples = simclr_subset(f.readlines(), classes)
    write_ann_file(args.out, samples)
    return dict(classes=len(classes), files={args.out: len(samples)})


def main(argv=None):
    args = parse_args(argv)
    info = cifar10(args) if args.dataset == 'cifar10' else imagenet(args)
    print(json.dumps(info))
    for name, n in info['files'].items():
        print(f'{n:8d}  {name}')
    return info


if __name__ == '__main__':
    main()
