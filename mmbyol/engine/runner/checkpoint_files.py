"""Finding a work dir's checkpoints by training progress, and clearing the
temporary files of saves that did not finish."""
import os
import os.path as osp
import re
from typing import List, Optional

CHECKPOINT_NAME = re.compile(r'^(epoch|iter)_(\d+)\.pth$')
TEMPORARY_SUFFIX = '.tmp'


def progress(name: str, iters_per_epoch: Optional[int]) -> Optional[int]:
    """Training iterations a checkpoint file name stands for:
    ``iter_N.pth`` -> N, ``epoch_N.pth`` -> N x iterations per epoch
    (N itself when that is unknown); None for other names."""
    match = CHECKPOINT_NAME.match(name)
    if match is None:
        return None
    kind, number = match.group(1), int(match.group(2))
    if kind == 'iter':
        return number
    return number * iters_per_epoch if iters_per_epoch else number


def checkpoints_by_progress(work_dir: str,
                            iters_per_epoch: Optional[int] = None
                            ) -> List[str]:
    """``epoch_*.pth`` / ``iter_*.pth`` files in ``work_dir`` (not below),
    furthest training progress first. Modification times play no part: a
    copied work dir orders the same."""
    if not osp.isdir(work_dir):
        return []
    found = []
    for name in os.listdir(work_dir):
        step = progress(name, iters_per_epoch)
        path = osp.join(work_dir, name)
        if step is not None and osp.isfile(path):
            found.append((step, name.startswith('iter_'), path))
    return [path for *_, path in sorted(found, reverse=True)]


def remove_temporaries(work_dir: str) -> List[str]:
    """Delete the ``*.tmp`` files that interrupted saves left in
    ``work_dir``; returns their paths."""
    if not osp.isdir(work_dir):
        return []
    removed = []
    for name in os.listdir(work_dir):
        path = osp.join(work_dir, name)
        if name.endswith(TEMPORARY_SUFFIX) and osp.isfile(path):
            os.remove(path)
            removed.append(path)
    return removed


def read_pointer(work_dir: str) -> Optional[str]:
    """The checkpoint ``work_dir/last_checkpoint`` names, if any."""
    pointer = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(pointer):
        return None
    with open(pointer) as f:
        return f.read().strip() or None


def atomic_write_text(path: str, text: str) -> None:
    """Write ``text`` to ``path`` through a flushed temporary file + rename,
    so a reader sees the old content or the new one, never a torn file; the
    temporary file is removed if the write fails."""
    tmp = f'{path}{TEMPORARY_SUFFIX}'
    try:
        with open(tmp, 'w') as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise
