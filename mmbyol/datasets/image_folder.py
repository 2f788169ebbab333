"""Every image under a folder, at any depth, labels optional."""
import os
import os.path as osp
from typing import List

from mmbyol.registry import DATASETS
from .base import IMG_EXTENSIONS, ImageListBase


def scan_images(root: str, extensions=IMG_EXTENSIONS) -> List[str]:
    """Sorted paths of the image files under ``root`` (follows links)."""
    found = []
    for folder, dirs, files in os.walk(root, followlinks=True):
        dirs.sort()
        found.extend(
            osp.join(folder, name) for name in sorted(files)
            if name.lower().endswith(extensions) and not name.startswith('.'))
    return found


@DATASETS.register_module()
class ImageFolderDataset(ImageListBase):
    """Unlabelled images under ``data_root/data_prefix``, any folder depth.

    ImageNet's ``train/<wnid>/*.JPEG``, CIFAR-10's ``train/<class>/*.jpg``,
    a flat folder of photos, or a deeper tree all work: every file with an
    image extension (case-insensitive) is a sample. A missing or empty root
    is a one-line error.

    Args:
        with_label (bool): give each image ``gt_label``, the index of its
            first-level sub-folder in sorted order (for BYOL's online linear
            probe or kNN monitoring). Default False.
        extensions (tuple[str]): lower-case file endings to include.
        **kwargs: :class:`ImageListBase` (``data_root``, ``data_prefix``,
            ``pipeline``, ``skip_bad_images``, ...).
    """

    def __init__(self, with_label: bool = False,
                 extensions=IMG_EXTENSIONS, **kwargs) -> None:
        self.with_label = with_label
        self.extensions = tuple(e.lower() for e in extensions)
        super().__init__(**kwargs)

    def load_data_list(self) -> List[dict]:
        root = self.img_root
        if not root or not osp.isdir(root):
            raise FileNotFoundError(
                f'{type(self).__name__}: image folder "{root}" does not '
                'exist (data_root + data_prefix)')
        paths = scan_images(root, self.extensions)
        if not paths:
            raise FileNotFoundError(
                f'{type(self).__name__}: no image files '
                f'({", ".join(self.extensions)}) under "{root}"')
        if not self.with_label:
            return [dict(img_path=p) for p in paths]
        rel = [osp.relpath(p, root).split(os.sep) for p in paths]
        classes = sorted({r[0] for r in rel if len(r) > 1})
        if not classes:
            raise ValueError(f'{type(self).__name__}: with_label=True needs '
                             f'class sub-folders under "{root}"')
        index = {c: i for i, c in enumerate(classes)}
        self._metainfo['classes'] = tuple(classes)
        return [
            dict(img_path=p, gt_label=index[r[0]]) for p, r in zip(paths, rel)
            if len(r) > 1
        ]
