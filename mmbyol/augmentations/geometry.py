"""Batched random-resized crop and flip: one box per sample, one kernel call.

``bilinear`` uses :func:`torchvision.ops.roi_align` with adaptive sampling
(each output pixel averages ``ceil(box / size)`` bilinear samples per axis),
so a large crop shrunk to the view size is anti-aliased. ``bicubic`` (the
paper's choice) uses :func:`torch.nn.functional.grid_sample` with one affine
grid per sample (Keys cubic, a = -0.75, no anti-aliasing) and is clipped to
[0, 1] afterwards (cubic overshoot).
"""
import torch
import torch.nn.functional as F
from torchvision.ops import roi_align


def resized_crop(x: torch.Tensor, boxes: torch.Tensor, size: int,
                 interpolation: str = 'bicubic') -> torch.Tensor:
    """Crop ``boxes`` ``(N, 4)`` ``[top, left, h, w]`` and resize to ``size``.

    Args:
        x: float images ``(N, C, H, W)``.
        boxes: integer boxes in source pixels, one per image.
        size: side of the square output.
        interpolation: ``'bicubic'`` or ``'bilinear'``.
    """
    n, _, h, w = x.shape
    b = boxes.to(x.device, x.dtype)
    top, left, bh, bw = b.unbind(1)
    if interpolation == 'bilinear':
        rois = torch.stack([
            torch.arange(n, device=x.device, dtype=x.dtype), left, top,
            left + bw, top + bh
        ], dim=1)
        out = roi_align(x, rois, output_size=(size, size), spatial_scale=1.0,
                        sampling_ratio=-1, aligned=True)
        return out
    if interpolation != 'bicubic':
        raise ValueError(f'interpolation must be bicubic or bilinear, '
                         f'got {interpolation!r}')
    # normalised coordinates (align_corners=False): pixel edge -1 .. +1
    theta = torch.zeros(n, 2, 3, device=x.device, dtype=x.dtype)
    theta[:, 0, 0] = bw / w
    theta[:, 0, 2] = (2 * left + bw) / w - 1
    theta[:, 1, 1] = bh / h
    theta[:, 1, 2] = (2 * top + bh) / h - 1
    grid = F.affine_grid(theta, (n, x.shape[1], size, size),
                         align_corners=False)
    out = F.grid_sample(x, grid, mode='bicubic', padding_mode='border',
                        align_corners=False)
    return out.clamp_(0, 1)


def hflip_where(x: torch.Tensor, flip: torch.Tensor) -> torch.Tensor:
    """Mirror left-right the images whose ``flip`` entry is True."""
    return torch.where(flip.to(x.device).view(-1, 1, 1, 1), x.flip(-1), x)
