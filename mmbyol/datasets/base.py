"""Shared behaviour of mmbyol's image datasets: prefixes and bad files."""
import warnings
from typing import Optional, Sequence, Union

from mmengine.dataset import BaseDataset

from mmbyol.registry import TRANSFORMS
from .transforms.loading import BadImageError

IMG_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.ppm', '.pgm', '.pbm', '.bmp',
                  '.tif', '.tiff', '.webp', '.gif')


class BadImageWarning(UserWarning):
    """A bad image file was skipped (``skip_bad_images=True``)."""


class ImageListBase(BaseDataset):
    """A :class:`BaseDataset` of image files that can skip bad ones.

    Args:
        data_root (str): root folder; ``data_prefix`` and ``ann_file`` are
            relative to it.
        data_prefix (str | dict): image folder, ``'train'`` or
            ``dict(img_path='train')``.
        skip_bad_images (bool): when a file cannot be decoded
            (:class:`BadImageError` from the pipeline), warn with a running
            count and draw another image instead of failing. Default False:
            the error names the file and stops training.
        **kwargs: the rest of :class:`mmengine.dataset.BaseDataset`.
    """

    def __init__(self,
                 data_root: str = '',
                 data_prefix: Union[str, dict] = '',
                 ann_file: Optional[str] = '',
                 skip_bad_images: bool = False,
                 pipeline: Sequence = (),
                 **kwargs) -> None:
        # built with mmbyol's registry (which falls back to MMPretrain's):
        # BaseDataset would use MMEngine's root and miss mmbyol's transforms
        # when no default scope is set
        pipeline = [
            TRANSFORMS.build(t) if isinstance(t, dict) else t
            for t in pipeline
        ]
        if isinstance(data_prefix, str):
            data_prefix = dict(img_path=data_prefix)
        self.skip_bad_images = skip_bad_images
        self.num_bad_images = 0
        super().__init__(ann_file=ann_file or '', data_root=data_root or '',
                         data_prefix=data_prefix, pipeline=pipeline,
                         **kwargs)

    @property
    def img_root(self) -> str:
        return self.data_prefix.get('img_path', '') or self.data_root

    def prepare_data(self, idx: int):
        try:
            return super().prepare_data(idx)
        except BadImageError as exc:
            if not self.skip_bad_images:
                raise
            self.num_bad_images += 1
            warnings.warn(
                f'{exc}; skipped ({self.num_bad_images} bad image(s) skipped '
                'so far in this process)', BadImageWarning)
            return None  # BaseDataset draws another index
