"""Decode any image file to RGB uint8, or fail with the file's name."""
import numpy as np
from mmcv.transforms import BaseTransform
from PIL import Image

from mmbyol.registry import TRANSFORMS
from mmbyol.utils.errors import MMBYOLError

# transparent pixels are composited onto this colour (what a viewer shows)
_BACKGROUND = (255, 255, 255)


class BadImageError(MMBYOLError, OSError):
    """A file that cannot be decoded to an image; the message names it."""


def _high_bit_depth_to_uint8(img: Image.Image) -> np.ndarray:
    """16-bit (``I;16*``), 32-bit integer (``I``) and float (``F``) gray."""
    arr = np.asarray(img)
    if img.mode == 'F':
        top = 1.0 if arr.size and float(arr.max()) <= 1.0 else 255.0
        arr = np.clip(arr / top * 255.0, 0, 255)
    else:  # 16-bit: 0..65535 -> 0..255
        arr = np.clip(arr.astype(np.float64) / 257.0, 0, 255)
    gray = np.rint(arr).astype(np.uint8)
    return np.repeat(gray[..., None], 3, axis=2)


def pil_to_rgb(img: Image.Image) -> np.ndarray:
    """Any PIL mode -> ``(H, W, 3)`` uint8 RGB.

    Gray, bilevel, palette, CMYK, YCbCr and LAB go through PIL's converter;
    alpha (RGBA, LA, palette transparency) is composited onto white; 16-bit
    and float gray are rescaled rather than clipped at 255.
    """
    if img.mode in ('I;16', 'I;16B', 'I;16L', 'I;16N', 'I', 'F'):
        return _high_bit_depth_to_uint8(img)
    has_alpha = img.mode in ('RGBA', 'LA', 'La', 'RGBa', 'PA') or (
        img.mode == 'P' and 'transparency' in img.info)
    if has_alpha:
        rgba = img.convert('RGBA')
        canvas = Image.new('RGBA', rgba.size, _BACKGROUND + (255, ))
        img = Image.alpha_composite(canvas, rgba)
    if img.mode != 'RGB':
        img = img.convert('RGB')
    return np.array(img, dtype=np.uint8)  # writable, C-contiguous


def read_rgb(path: str) -> np.ndarray:
    """Decode ``path`` fully to RGB uint8 or raise :class:`BadImageError`."""
    try:
        with Image.open(path) as img:
            img.load()  # decode now: truncated data raises here
            return pil_to_rgb(img)
    except Exception as exc:  # noqa: BLE001 (PIL raises many kinds)
        raise BadImageError(
            f'cannot read image "{path}": {type(exc).__name__}: {exc}'
        ) from exc


@TRANSFORMS.register_module()
class LoadRGBImage(BaseTransform):
    """Load ``results['img_path']`` as an RGB uint8 array, any file mode.

    Unlike MMCV's ``LoadImageFromFile`` (BGR, via OpenCV), the image is RGB,
    so the data preprocessor must not swap channels (``to_rgb=False``).
    An item that already carries its RGB image in ``img`` and no path
    (MMPretrain's ``CIFAR10``) passes through, so one pipeline serves files
    and in-memory data sets.
    A truncated, corrupt or non-image file raises :class:`BadImageError`
    naming the file; the datasets in :mod:`mmbyol.datasets` turn that into a
    counted warning and a re-draw when ``skip_bad_images=True``.

    Added keys: ``img`` ``(H, W, 3)`` uint8, ``img_shape``, ``ori_shape``.
    """

    def transform(self, results: dict) -> dict:
        if results.get('img_path') is None and 'img' in results:
            img = results['img']
        else:
            img = read_rgb(results['img_path'])
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        return results
