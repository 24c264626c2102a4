# Copyright (c) mmexact contributors. All rights reserved.
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor

from mmseg.registry import MODELS

__all__ = ['PAMR']


@MODELS.register_module()
class PAMR(BaseModule):
    """Pixel-adaptive mask refinement.

    `Single-Stage Semantic Segmentation from Image Labels
    <https://arxiv.org/abs/2005.08104>`_ (Araslanov & Roth, CVPR 2020).
    For every pixel i, its neighbours j on 3 x 3 stencils of
    the given dilations (centre excluded, replicate padding) and every
    guide channel c::

        k_ij = - mean_c |I_ic - I_jc| / (alpha * sigma_ic + eps)
        a_ij = softmax_j(k_ij)

    with ``sigma_ic`` the (unbiased) standard deviation of channel c over
    the neighbours of i and ``alpha`` a temperature; then ``num_iters``
    times ``m_i <- sum_j a_ij m_j`` for every map. The kernel only depends on local contrast, so a guide of any
    scale (e.g. normalised reflectances of several dates) can be used. A
    constant map is a fixed point.

    All maps of a sample share its affinities: ``maps`` (N, K, H, W) is
    refined with the guide (N, C, H, W) of the same sample, every map
    independently (the propagation is linear).

    Args:
        dilations (Sequence[int]): Stencil dilations. Defaults to (1, 2),
            for 24 x 24 windows (the paper uses larger ones on larger
            crops).
        num_iters (int): Propagation steps. Defaults to 10.
        alpha (float): Temperature of the kernel. Defaults to 0.1.
        eps (float): Added to ``alpha * sigma``. Defaults to 1e-8.
        init_cfg (dict, optional): Unused (no parameters).
    """

    def __init__(self,
                 dilations: Sequence[int] = (1, 2),
                 num_iters: int = 10,
                 alpha: float = 0.1,
                 eps: float = 1e-8,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if not dilations or min(dilations) < 1:
            raise ValueError(f'dilations must be >= 1, got {dilations}')
        self.dilations = tuple(dilations)
        self.num_iters = num_iters
        self.alpha = alpha
        self.eps = eps

    def _slots(self, h: int, w: int) -> List[Tuple[slice, slice]]:
        """Slices of the padded map giving each neighbour's value."""
        pad = max(self.dilations)
        return [(slice(pad + dy * r, pad + dy * r + h),
                 slice(pad + dx * r, pad + dx * r + w))
                for r in self.dilations for dy in (-1, 0, 1)
                for dx in (-1, 0, 1) if (dy, dx) != (0, 0)]

    def _pad(self, x: Tensor) -> Tensor:
        pad = max(self.dilations)
        return F.pad(x, (pad, pad, pad, pad), mode='replicate')

    def affinity(self, guide: Tensor) -> Tensor:
        """Affinities (N, Q, H, W) of a guide (N, C, H, W), Q neighbours."""
        guide = guide.float()
        gp = self._pad(guide)
        slots = self._slots(*guide.shape[-2:])
        q = len(slots)
        mean = sum(gp[..., sy, sx] for sy, sx in slots) / q
        var = sum((gp[..., sy, sx] - mean).pow(2) for sy, sx in slots) / (
            q - 1)
        inv = 1. / (self.alpha * var.sqrt() + self.eps)
        kernel = torch.stack([
            -((guide - gp[..., sy, sx]).abs() * inv).mean(dim=1)
            for sy, sx in slots
        ], dim=1)
        return kernel.softmax(dim=1)

    def forward(self, guide: Tensor, maps: Tensor) -> Tensor:
        """Refine maps with the guide's affinities.

        Args:
            guide (Tensor): Guide image (N, C, H, W).
            maps (Tensor): Score maps (N, K, H, W).

        Returns:
            Tensor: Refined maps (N, K, H, W), float32.
        """
        if guide.dim() != 4 or maps.dim() != 4 or \
                guide.shape[0] != maps.shape[0] or \
                guide.shape[-2:] != maps.shape[-2:]:
            raise ValueError(f'PAMR needs a guide (N, C, H, W) and maps (N, '
                             f'K, H, W) of the same N, H, W; got '
                             f'{tuple(guide.shape)} and {tuple(maps.shape)}')
        aff = self.affinity(guide)
        slots = self._slots(*maps.shape[-2:])
        out = maps.float()
        for _ in range(self.num_iters):
            mp = self._pad(out)
            out = sum(aff[:, j:j + 1] * mp[..., sy, sx]
                      for j, (sy, sx) in enumerate(slots))
        return out
