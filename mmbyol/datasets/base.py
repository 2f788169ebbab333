"""Shared behaviour of mmbyol's image datasets: prefixes and bad files."""
import warnings
from typing import List, Optional, Sequence, Union

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
            (:class:`BadImageError` from the pipeline), warn once per file
            and process and draw another image instead of failing; the
            sample drawn instead carries the skipped paths in its metainfo
            (``skipped_images``), from which
            :class:`~mmbyol.engine.hooks.SkippedImagesHook` reports the
            distinct bad files of every epoch. Default False: the error
            names the file and stops training.
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
        self.bad_images = set()  # distinct files this process could not read
        self._skipped: List[str] = []
        super().__init__(ann_file=ann_file or '', data_root=data_root or '',
                         data_prefix=data_prefix, pipeline=pipeline,
                         **kwargs)

    @property
    def img_root(self) -> str:
        return self.data_prefix.get('img_path', '') or self.data_root

    @property
    def num_bad_images(self) -> int:
        return len(self.bad_images)

    def prepare_data(self, idx: int):
        try:
            return super().prepare_data(idx)
        except BadImageError as exc:
            if not self.skip_bad_images:
                raise
            path = self.get_data_info(idx).get('img_path', str(idx))
            self._skipped.append(path)
            if path not in self.bad_images:
                self.bad_images.add(path)
                warnings.warn(f'{exc}; skipped', BadImageWarning)
            return None  # BaseDataset draws another index

    def __getitem__(self, idx: int):
        self._skipped = []
        data = super().__getitem__(idx)
        samples = data.get('data_samples') if isinstance(data, dict) else None
        if self._skipped and hasattr(samples, 'set_metainfo'):
            samples.set_metainfo(dict(skipped_images=tuple(self._skipped)))
        return data
