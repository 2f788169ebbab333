"""Training curves from MMEngine's ``LocalVisBackend`` output.

``scalars.json`` (``WORK_DIR/<timestamp>/vis_data/``) has one JSON object
per logging event with a ``step``: the training scalars every logging
interval (losses, ``lr``, ``tau``, ``proj_std``, ``pred_target_cos``,
``probe_acc``), and the ``knn/top1``-style results of :class:`KNNHook`.
"""
import glob
import json
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

Series = Dict[str, Tuple[List[float], List[float]]]

# (panel title, predicate on a scalar name); a scalar goes to the first match
PANELS = (
    ('loss', lambda k: 'loss' in k or k in ('pred1_target2',
                                           'pred2_target1')),
    ('kNN accuracy', lambda k: k.startswith('knn/')),
    ('projection std (collapse -> 0)', lambda k: k == 'proj_std'),
    ('cos(prediction, target)', lambda k: k == 'pred_target_cos'),
    ('online linear probe accuracy', lambda k: k == 'probe_acc'),
    ('tau (target EMA)', lambda k: k == 'tau'),
    ('learning rate', lambda k: k == 'lr'),
)
_SKIP = {'step', 'iter', 'epoch', 'time', 'data_time', 'base_lr', 'memory'}


def find_scalars_file(work_dir: str) -> str:
    """The newest ``scalars.json`` under ``work_dir`` (or the file itself)."""
    if osp.isfile(work_dir):
        return work_dir
    found = sorted(
        glob.glob(osp.join(work_dir, '**', 'vis_data', 'scalars.json'),
                  recursive=True))
    if not found:
        raise FileNotFoundError(f'no */vis_data/scalars.json under '
                                f'{work_dir}: was it trained with a '
                                'LocalVisBackend?')
    return max(found, key=osp.getmtime)


def load_scalars(path: str) -> Series:
    """``{name: (steps, values)}`` from a ``scalars.json``."""
    series: Series = {}
    with open(path, encoding='utf-8') as f:
        for line in f:
            if not line.strip():
                continue
            row = json.loads(line)
            step = row.get('step', row.get('iter'))
            for key, value in row.items():
                if key in _SKIP or not isinstance(value, (int, float)):
                    continue
                steps, values = series.setdefault(key, ([], []))
                steps.append(step)
                values.append(float(value))
    return series


def plot_curves(series: Series, out: str, title: Optional[str] = None,
                panels: Sequence = PANELS) -> List[str]:
    """Draw one panel per group that has data; returns the panel titles."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    groups = []
    for name, wanted in panels:
        keys = sorted(k for k in series if wanted(k))
        if keys:
            groups.append((name, keys))
    if not groups:
        raise ValueError('no known scalars to plot; found '
                         f'{sorted(series)}')
    cols = min(3, len(groups))
    rows = -(-len(groups) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.5 * cols, 3.2 * rows),
                             squeeze=False)
    for ax, (name, keys) in zip(axes.flat, groups):
        for key in keys:
            steps, values = series[key]
            ax.plot(steps, values, marker='o' if len(steps) < 20 else None,
                    markersize=3, label=key)
        ax.set_title(name)
        ax.set_xlabel('iteration')
        ax.grid(alpha=0.3)
        if len(keys) > 1:
            ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(groups):]:
        ax.axis('off')
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return [name for name, _ in groups]
