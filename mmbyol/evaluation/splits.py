"""Labelled splits for the evaluation protocols, as annotation lists.

Every list is ``[(relative_path, label), ...]``, written one ``path label``
per line: the ``ann_file`` format of MMPretrain's ``CustomDataset``
(``with_label=True``).
"""
import os
import os.path as osp
import re
from typing import Dict, List, Sequence, Tuple

import numpy as np

Sample = Tuple[str, int]
IMG_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.webp')


def scan_class_folders(root: str) -> Tuple[List[str], Dict[str, List[str]]]:
    """Classes (sorted sub-folder names) and their image files (sorted)."""
    classes = sorted(d for d in os.listdir(root)
                     if osp.isdir(osp.join(root, d)))
    if not classes:
        raise FileNotFoundError(f'no class sub-folders under {root}')
    files = {
        c: sorted(f for f in os.listdir(osp.join(root, c))
                  if f.lower().endswith(IMG_EXTENSIONS))
        for c in classes
    }
    return classes, files


def _index(filename: str) -> int:
    match = re.search(r'(\d+)', osp.splitext(filename)[0])
    if match is None:
        raise ValueError(f'{filename} has no image number')
    return int(match.group(1))


def held_out_split(classes: Sequence[str], files: Dict[str, List[str]],
                   first_held_out: int = 4500,
                   last_held_out: int = 4999
                   ) -> Tuple[List[Sample], List[Sample]]:
    """Train/held-out lists by image number: numbers ``first_held_out`` to
    ``last_held_out`` of each class are held out (CIFAR-10 here: 4500-4999,
    500 per class)."""
    train, held = [], []
    for label, c in enumerate(classes):
        for f in files[c]:
            held_out = first_held_out <= _index(f) <= last_held_out
            (held if held_out else train).append((f'{c}/{f}', label))
    return train, held


def balanced_subset(samples: Sequence[Sample], fraction: float,
                    seed: int = 0) -> List[Sample]:
    """``round(fraction * n_c)`` samples of every class ``c`` (at least one),
    drawn without replacement by ``numpy.random.default_rng(seed)``; the
    result keeps the input order."""
    if not 0 < fraction <= 1:
        raise ValueError(f'fraction must be in (0, 1], got {fraction}')
    rng = np.random.default_rng(seed)
    labels = np.array([y for _, y in samples])
    keep = []
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        n = max(1, int(round(fraction * len(members))))
        keep.extend(rng.choice(members, size=n, replace=False).tolist())
    return [samples[i] for i in sorted(keep)]


def simclr_subset(lines: Sequence[str],
                  classes: Sequence[str]) -> List[Sample]:
    """SimCLR's ImageNet subset files (``n01440764_10026.JPEG`` per line) as
    ``wnid/file label``, labels indexing ``classes`` (sorted wnids)."""
    index = {c: i for i, c in enumerate(classes)}
    out = []
    for line in lines:
        name = line.strip()
        if not name:
            continue
        wnid = name.split('_')[0]
        if wnid not in index:
            raise ValueError(f'{name}: class {wnid} is not among the '
                             f'{len(classes)} classes')
        out.append((f'{wnid}/{name}', index[wnid]))
    return out


def write_ann_file(path: str, samples: Sequence[Sample]) -> None:
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(path, 'w', encoding='utf-8') as f:
        f.writelines(f'{p} {y}\n' for p, y in samples)
