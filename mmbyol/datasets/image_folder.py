"""Every image under a folder, at any depth, labels optional."""
import os
import os.path as osp
from typing import List

from mmbyol.registry import DATASETS
from mmbyol.utils.errors import ConfigError, DataNotFoundError
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

    With ``with_label=True`` (linear and kNN evaluation, fine-tuning, the
    online probe) an image's class is **the folder that holds it**, as a
    path relative to the root: ``cat/1.jpg`` is class ``cat``,
    ``animals/dog/2.jpg`` class ``animals/dog``, so nested trees keep every
    leaf folder apart. Classes are numbered in sorted order of those paths
    (``metainfo['classes']``); an image directly in the root has no class
    and is an error.

    Args:
        with_label (bool): give each image ``gt_label`` as above. Default
            False.
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
            raise DataNotFoundError(
                f'{type(self).__name__}: image folder "{root}" does not '
                'exist (data_root + data_prefix)')
        paths = scan_images(root, self.extensions)
        if not paths:
            raise DataNotFoundError(
                f'{type(self).__name__}: no image files '
                f'({", ".join(self.extensions)}) under "{root}"')
        if not self.with_label:
            return [dict(img_path=p) for p in paths]
        folders = [osp.relpath(osp.dirname(p), root).replace(os.sep, '/')
                   for p in paths]
        loose = [p for p, f in zip(paths, folders) if f == '.']
        if loose:
            raise ConfigError(
                f'{type(self).__name__}: with_label=True but {len(loose)} '
                f'images lie directly in "{root}" (e.g. '
                f'{osp.basename(loose[0])}): put every image in a class '
                'folder')
        classes = sorted(set(folders))
        index = {c: i for i, c in enumerate(classes)}
        self._metainfo['classes'] = tuple(classes)
        return [dict(img_path=p, gt_label=index[f])
                for p, f in zip(paths, folders)]
