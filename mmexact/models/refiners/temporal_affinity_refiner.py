# Copyright (c) mmexact contributors. All rights reserved.
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor

from mmseg.registry import MODELS

__all__ = ['TemporalAffinityRefiner']


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
    may carry any number of leading dimensions.

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

    def _shifted(self, x: Tensor) -> List[Tensor]:
        """Views of the replicate-padded x, one per neighbour offset."""
        pad = max(self.dilations)
        h, w = x.shape[-2:]
        xp = F.pad(x, (pad, pad, pad, pad), mode='replicate')
        return [
            xp[..., pad + dy:pad + dy + h, pad + dx:pad + dx + w]
            for dy, dx in self._offsets()
        ]

    def affinity(self, feats: Tensor) -> Tensor:
        """Affinities (N, Q, H, W) of features (N, C, H, W).

        Memory-lean: the Q neighbours are views of one padded copy of the
        features; similarities and the neighbour standard deviation are
        accumulated offset by offset, so no (N, C, Q, H, W) tensor is
        formed (all channels/classes still go through each op at once).
        """
        nbs = self._shifted(feats)
        sq = feats.pow(2).sum(dim=1)
        sq_nbs = self._shifted(sq.unsqueeze(1))
        sims, s1, s2 = [], 0., 0.
        for nb, sq_nb in zip(nbs, sq_nbs):
            dot = (feats * nb).sum(dim=1)
            # torch.cosine_similarity: x.y / sqrt(max(|x|^2 |y|^2, eps^2))
            sims.append(dot / (sq * sq_nb[:, 0]).clamp(min=1e-16).sqrt())
            s1 = s1 + nb
            s2 = s2 + nb * nb
        q = len(nbs)
        var = ((s2 - s1 * s1 / q) / (q - 1)).clamp(min=0)
        sigma = var.sqrt().mean(dim=1, keepdim=True)
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
        f = feats.reshape(-1, *feats.shape[-3:])
        m = maps.reshape(-1, 1, h, w)
        out = self.propagate(m, self.affinity(f))
        return out.view(*lead, h, w)
