"""Images named in a text file, one per line."""
import os.path as osp
from typing import List

from mmbyol.registry import DATASETS
from mmbyol.utils.errors import DataNotFoundError
from .base import ImageListBase


@DATASETS.register_module()
class FileListDataset(ImageListBase):
    """Images listed in ``ann_file``: ``path [label]`` per line.

    Relative paths are relative to ``data_root/data_prefix``; blank lines
    and lines starting with ``#`` are ignored. A last, integer column
    becomes ``gt_label`` (paths may contain spaces). Files are not opened
    here, so a list of millions of paths loads at once; a missing or
    unreadable file fails (or is skipped, ``skip_bad_images=True``) when it
    is drawn.

    Args:
        ann_file (str): the list file.
        **kwargs: :class:`ImageListBase` arguments.
    """

    def load_data_list(self) -> List[dict]:
        if not self.ann_file or not osp.isfile(self.ann_file):
            raise DataNotFoundError(
                f'{type(self).__name__}: file list "{self.ann_file}" does '
                'not exist (data_root + ann_file)')
        root = self.data_prefix.get('img_path', '') or self.data_root
        data_list = []
        with open(self.ann_file, encoding='utf-8') as f:
            for line in f:
                line = line.strip()
                if not line or line.startswith('#'):
                    continue
                parts = line.rsplit(maxsplit=1)
                label = None
                if len(parts) == 2 and parts[1].lstrip('-').isdigit():
                    line, label = parts[0], int(parts[1])
                info = dict(img_path=osp.join(root, line) if root else line)
                if label is not None:
                    info['gt_label'] = label
                data_list.append(info)
        if not data_list:
            raise DataNotFoundError(
                f'{type(self).__name__}: "{self.ann_file}" lists no images')
        return data_list
