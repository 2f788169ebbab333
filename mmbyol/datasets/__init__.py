from .base import IMG_EXTENSIONS, BadImageWarning, ImageListBase
from .digits import DigitsDataset
from .file_list import FileListDataset
from .image_folder import ImageFolderDataset, scan_images
from .subset import ClassBalancedSubset
from .transforms import *  # noqa: F401,F403

__all__ = [
    'ClassBalancedSubset', 'DigitsDataset', 'FileListDataset',
    'ImageFolderDataset', 'ImageListBase', 'BadImageWarning',
    'IMG_EXTENSIONS', 'scan_images'
]
