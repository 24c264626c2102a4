# Copyright (c) mmexact contributors. All rights reserved.
"""CAM post-processing shared by heads and the pseudo-label tools."""
import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ['minmax_normalize_cams', 'cams_to_seg_scores', 'upsample_cams']


def minmax_normalize_cams(cams: Tensor, labels: Tensor,
                          eps: float = 1e-8) -> Tensor:
    """Gate CAMs by image labels and min-max normalise each present map.

    Args:
        cams (Tensor): (B, K, h, w), any range.
        labels (Tensor): (B, K) multi-hot; absent classes become 0.
        eps (float): Added to the range. Defaults to 1e-8.

    Returns:
        Tensor: (B, K, h, w); ``(c - min) / (max - min + eps)`` for present
        classes, zeros for absent ones.
    """
    flat = cams.flatten(2)
    lo = flat.min(dim=-1, keepdim=True)[0]
    hi = flat.max(dim=-1, keepdim=True)[0]
    out = (flat - lo) / (hi - lo + eps)
    return (out * (labels[..., None] > 0)).view_as(cams)


def upsample_cams(cams: Tensor, size) -> Tensor:
    """Bilinear, ``align_corners=True`` (= scipy zoom order 1, §7.2)."""
    if tuple(cams.shape[-2:]) == tuple(size):
        return cams
    return F.interpolate(
        cams, size=tuple(size), mode='bilinear', align_corners=True)


def cams_to_seg_scores(cams: Tensor, bg_threshold: float, size) -> Tensor:
    """Per-pixel scores (B, K + 1, H, W) with a constant background channel.

    Channel 0 is ``bg_threshold`` and channel ``k + 1`` the upsampled CAM of
    class k, so that ``argmax`` yields Exact's pseudo label: background
    wherever no class exceeds the threshold (ties go to background).

    Args:
        cams (Tensor): Normalised CAMs (B, K, h, w) in [0, 1].
        bg_threshold (float): theta.
        size (tuple[int, int]): Output (H, W).
    """
    up = upsample_cams(cams, size)
    bg = torch.full_like(up[:, :1], bg_threshold)
    return torch.cat([bg, up], dim=1)
