"""BYOL's batched device path: colour ops on the model's device."""
import zlib
from typing import Optional, Sequence

import torch
from mmengine.dist import get_rank
from mmengine.logging import MessageHub
from mmpretrain.models.utils.data_preprocessor import SelfSupDataPreprocessor

from mmbyol.augmentations import (CONVENTIONS, apply_photometric,
                                  blur_kernel_size, cpu_kernels_enabled,
                                  sample_view_params)
from mmbyol.augmentations.cpu_kernels import photometric_normalized
from mmbyol.datasets.transforms.byol_views import build_view_specs
from mmbyol.registry import MODELS

# pixels per colour-op pass on a CPU: about L2-sized (see _chunk_size)
CPU_CHUNK_BYTES = 1 << 20


@MODELS.register_module()
class BYOLDataPreprocessor(SelfSupDataPreprocessor):
    """Normalise BYOL's two views, optionally augmenting them on the device.

    With ``augment_on_device=True`` the data loader's workers only decode,
    crop and flip (``BYOLViews(photometric=False)``), and during training
    this module applies colour jitter, grayscale, Gaussian blur and
    solarize to the whole batch at once on the model's device, with
    parameters drawn per sample by the same
    :func:`~mmbyol.augmentations.sample_view_params` the CPU transform uses
    (``T`` for view 1, ``T'`` for view 2), then normalises. Outside
    training, or with ``augment_on_device=False``, it is MMPretrain's
    :class:`SelfSupDataPreprocessor`. The output keeps the list of two
    ``(N, 3, H, W)`` tensors that ``BYOL.loss`` expects.

    Draws use a private CPU generator seeded from ``torch.initial_seed()``,
    the distributed rank and, inside a Runner, the iteration: GPUs never
    repeat each other's parameters, and a resumed run draws exactly what
    the uninterrupted run drew (there is no generator state to save).
    The parameters are drawn on the host and copied to the device without
    blocking, so the augmentation never waits for the device (no
    host-device sync; see :func:`~mmbyol.augmentations.apply_photometric`).

    Args:
        mean, std (list[float]): per-channel normalisation (0-255 scale).
        to_rgb (bool): swap BGR to RGB. mmbyol's ``LoadRGBImage`` already
            gives RGB, so the default is False.
        augment_on_device (bool): run the colour ops here. Default False.
        convention (str): ``'torchvision'`` or ``'dm_exact'``.
        view_specs (list[dict], optional): field overrides of ``T``, ``T'``.
        **kwargs: other :class:`SelfSupDataPreprocessor` arguments.
    """

    def __init__(self,
                 mean: Optional[Sequence[float]] = None,
                 std: Optional[Sequence[float]] = None,
                 to_rgb: bool = False,
                 augment_on_device: bool = False,
                 convention: str = 'torchvision',
                 view_specs: Optional[Sequence[dict]] = None,
                 **kwargs) -> None:
        super().__init__(mean=mean, std=std, to_rgb=to_rgb, **kwargs)
        if convention not in CONVENTIONS:
            raise ValueError(f'convention must be one of {CONVENTIONS}, '
                             f'got {convention!r}')
        self.augment_on_device = augment_on_device
        self.convention = convention
        self.specs = build_view_specs(view_specs)
        self._generator = None
        self._seeded_at = None

    @property
    def generator(self) -> torch.Generator:
        """The host generator of the per-sample parameters, re-seeded when
        the Runner's iteration changes (outside a Runner: one stream)."""
        iteration = MessageHub.get_current_instance().get_info('iter')
        if self._generator is None or iteration != self._seeded_at:
            key = f'{torch.initial_seed()}-{get_rank()}-{iteration}'
            self._generator = torch.Generator().manual_seed(
                zlib.crc32(key.encode()))
            self._seeded_at = iteration
        return self._generator

    def _chunk_size(self, view: torch.Tensor) -> int:
        """Images per pass of the tensor ops (a CPU with the fused kernels
        takes the whole view in one call): the whole batch on an
        accelerator; on a CPU
        about 1 MiB of fp32 pixels, so that every op of a chunk reads and
        writes the cache instead of memory (at 224 px one image, which also
        skips the row indexing)."""
        if view.device.type != 'cpu':
            return view.shape[0]
        return max(1, CPU_CHUNK_BYTES // (4 * view[0].numel()))

    def _check_views(self, data_samples) -> None:
        flags = [s.metainfo['byol_photometric'] for s in data_samples or []
                 if 'byol_photometric' in s.metainfo]
        if self.augment_on_device and any(flags):
            raise ValueError(
                'BYOLDataPreprocessor(augment_on_device=True) got views '
                'that BYOLViews already colour-augmented: set '
                'BYOLViews(photometric=False) in the pipeline')
        if not self.augment_on_device and flags and not any(flags):
            raise ValueError(
                'views reach the model without colour augmentation: '
                'BYOLViews(photometric=False) needs '
                'BYOLDataPreprocessor(augment_on_device=True)')

    def forward(self, data: dict, training: bool = False) -> dict:
        if training:
            self._check_views(data.get('data_samples'))
        if not (training and self.augment_on_device):
            return super().forward(data, training)
        data = self.cast_data(data)
        views, samples = data['inputs'], data.get('data_samples')
        if not isinstance(views, (list, tuple)) or len(views) != len(
                self.specs):
            raise ValueError('augment_on_device needs a list of '
                             f'{len(self.specs)} views per batch')
        # The colour ops run in fp32 even inside the optimizer's autocast
        # context (MMEngine calls the preprocessor within it).
        with torch.autocast(views[0].device.type, enabled=False):
            return {'inputs': self._augment(views), 'data_samples': samples}

    def _augment(self, views) -> list:
        return [
            self._augment_view(view, spec)
            for view, spec in zip(views, self.specs)
        ]

    def _augment_view(self, view: torch.Tensor, spec) -> torch.Tensor:
        """Colour ops and normalisation of one view, chunk by chunk."""
        if self._channel_conversion:
            view = view[:, [2, 1, 0]]
        n, _, h, w = view.shape
        params = sample_view_params(
            n, spec, h, w, self.convention, generator=self.generator)
        out = torch.empty(view.shape, dtype=torch.float32,
                          device=view.device)
        if self._enable_normalize:  # 255 x / std - mean / std
            scale, shift = 255 / self.std, self.mean / self.std
        else:
            scale, shift = 255.0, 0.0
        if view.device.type == 'cpu' and cpu_kernels_enabled():
            # fused per pixel, with the conversion and the normalisation
            photometric_normalized(view.contiguous(), out, params,
                                   self.convention, blur_kernel_size(h),
                                   scale, shift)
            return out
        step = self._chunk_size(view)
        for i in range(0, n, step):
            # 0-255 (uint8 from the workers) -> fp32 [0, 1] in one
            # out-of-place pass; apply_photometric works on its own copy
            x = view[i:i + step].div(255).float()
            x = apply_photometric(x, params[i:i + step], self.convention)
            # normalised straight into the output: no copy, no cat
            torch.mul(x, scale, out=out[i:i + step]).sub_(shift)
        return out
