# Copyright (c) mmexact contributors. All rights reserved.
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor

from mmseg.registry import MODELS

__all__ = ['TemporalAffinityRefiner']


class _NeighbourStd(torch.autograd.Function):
    """Mean over channels of the unbiased std over the Q neighbours.

    Input: the replicate-padded features (N, C, H + 2r, W + 2r); the Q
    neighbour views are taken inside. Two-pass (mean, then squared
    deviations) like ``torch.std``, but only the mean and std maps are
    kept for backward instead of Q deviation tensors, and the gradient is
    defined as 0 where the std is 0 (``torch.std`` would give NaN).
    """

    @staticmethod
    def forward(ctx, xp: Tensor, slots: tuple, pad: int) -> Tensor:
        views = [xp[..., sy, sx] for sy, sx in slots]
        mean = sum(views) / len(views)
        var = sum((v - mean).pow_(2) for v in views) / (len(views) - 1)
        std = var.sqrt_()
        ctx.save_for_backward(xp, mean, std)
        ctx.slots = slots
        return std.mean(dim=1, keepdim=True)

    @staticmethod
    def backward(ctx, grad: Tensor):
        xp, mean, std = ctx.saved_tensors
        q = len(ctx.slots)
        coef = torch.where(std > 0, grad / (std.shape[1] * (q - 1) * std),
                           torch.zeros_like(std))
        grad_xp = torch.zeros_like(xp)
        for sy, sx in ctx.slots:
            grad_xp[..., sy, sx] += coef * (xp[..., sy, sx] - mean)
        return grad_xp, None, None


@MODELS.register_module()
class TemporalAffinityRefiner(BaseModule):
    """Temporal-aware affinity propagation (TAAP, exact-method.md §6).

    Refines a score map ``m`` with affinities computed from a feature map
    ``v`` (in Exact: the temporal clue V, a class-specific re-weighted mean
    of frame features). For every cell p and each of its 8 neighbours q on
    a 3 x 3 stencil with dilation ``r`` (centre excluded, replicate padding)::

        c_pq    = cosine(v_p, v_q)
        sigma_p = mean over channels of the unbiased std of v over N(p)
        a_pq    = softmax_q( c_pq / ((sigma_p + 1e-8) * alpha) )

    and ``num_iters`` times ``m_p <- sum_q a_pq m_q``. A constant map is a
    fixed point; there is no self loop. With several dilations, the
    neighbourhoods are concatenated (the softmax runs over all of them).

    All channels / classes are processed as one batched operation: inputs
    may carry any number of leading dimensions. The arithmetic is at least
    float32 for every input dtype, also under autocast; the output has
    the dtype of ``maps``.

    Args:
        dilations (Sequence[int]): Stencil dilations. Defaults to (2, ).
        num_iters (int): Propagation steps. Defaults to 3.
        alpha (float): Temperature factor. Defaults to 0.3.
        init_cfg (dict, optional): Unused (no parameters).
    """

    def __init__(self,
                 dilations: Sequence[int] = (2, ),
                 num_iters: int = 3,
                 alpha: float = 0.3,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.dilations = tuple(dilations)
        self.num_iters = num_iters
        self.alpha = alpha

    def _offsets(self) -> List[Tuple[int, int]]:
        return [(dy * r, dx * r) for r in self.dilations
                for dy in (-1, 0, 1) for dx in (-1, 0, 1)
                if (dy, dx) != (0, 0)]

    def _slots(self, h: int, w: int) -> tuple:
        """Index slices of the padded map giving each neighbour's value."""
        pad = max(self.dilations)
        return tuple((slice(pad + dy, pad + dy + h), slice(pad + dx,
                                                           pad + dx + w))
                     for dy, dx in self._offsets())

    def _shifted(self, x: Tensor) -> List[Tensor]:
        """Views of the replicate-padded x, one per neighbour offset."""
        pad = max(self.dilations)
        xp = F.pad(x, (pad, pad, pad, pad), mode='replicate')
        return [xp[..., sy, sx] for sy, sx in self._slots(*x.shape[-2:])]

    def affinity(self, feats: Tensor) -> Tensor:
        """Affinities (N, Q, H, W) of features (N, C, H, W).

        Memory-lean: the Q neighbours are views of one padded copy of the
        features; similarities are accumulated offset by offset and the
        neighbour std goes through :class:`_NeighbourStd`, so no
        (N, C, Q, H, W) tensor is formed or kept for backward (all channels
        and classes still go through each op at once).
        """
        pad = max(self.dilations)
        xp = F.pad(feats, (pad, pad, pad, pad), mode='replicate')
        slots = self._slots(*feats.shape[-2:])
        sq = feats.pow(2).sum(dim=1)
        sq_p = F.pad(sq.unsqueeze(1), (pad, pad, pad, pad),
                     mode='replicate')[:, 0]
        sims = []
        for sy, sx in slots:
            dot = (feats * xp[..., sy, sx]).sum(dim=1)
            # torch.cosine_similarity: x.y / sqrt(max(|x|^2 |y|^2, eps^2))
            sims.append(dot /
                        (sq * sq_p[..., sy, sx]).clamp(min=1e-16).sqrt())
        sigma = _NeighbourStd.apply(xp, slots, pad)
        sim = torch.stack(sims, dim=1)
        return torch.softmax(sim / ((sigma + 1e-8) * self.alpha), dim=1)

    def propagate(self, maps: Tensor, aff: Tensor) -> Tensor:
        """``num_iters`` propagation steps of maps (N, 1, H, W)."""
        for _ in range(self.num_iters):
            nb = torch.cat(self._shifted(maps), dim=1)  # (N, Q, H, W)
            maps = (nb * aff).sum(dim=1, keepdim=True)
        return maps

    def forward(self, feats: Tensor, maps: Tensor) -> Tensor:
        """Refine maps with feature affinities.

        Args:
            feats (Tensor): Features (..., C, H, W).
            maps (Tensor): Score maps (..., H, W) with the same leading
                dimensions.

        Returns:
            Tensor: Refined maps, same shape as ``maps``.
        """
        lead = maps.shape[:-2]
        if feats.shape[:-3] != lead or feats.shape[-2:] != maps.shape[-2:]:
            raise ValueError(f'features {tuple(feats.shape)} do not match '
                             f'maps {tuple(maps.shape)}')
        h, w = maps.shape[-2:]
        # at least float32 whatever the input dtype or autocast: in half
        # precision sigma + 1e-8 rounds back to sigma and a flat
        # neighbourhood (sigma = 0) would divide by zero
        dtype = torch.promote_types(maps.dtype, torch.float32)
        with torch.autocast(maps.device.type, enabled=False):
            f = feats.reshape(-1, *feats.shape[-3:]).to(dtype)
            m = maps.reshape(-1, 1, h, w).to(dtype)
            out = self.propagate(m, self.affinity(f))
        return out.view(*lead, h, w).to(maps.dtype)
