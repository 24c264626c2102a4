# Copyright (c) mmexact contributors. All rights reserved.
from typing import Optional

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor, nn

from .fused_ops import can_fuse, chunk_rows, norm_gelu_ffn

__all__ = ['GeluFFN']


class GeluFFN(BaseModule):
    """Feed-forward block ``Linear(d, h) -> GELU(erf) -> Linear(h, d)``.

    Without dropout and while gradients are recorded (also under autocast)
    it runs through a fused autograd function that stores only its input and
    recomputes the (optional) pre-norm and the hidden pre-activation in
    backward (:func:`norm_gelu_ffn`): one extra ``fc1`` product per step for
    5 fewer stored activations of width d. Without gradients it runs over
    ``chunk_rows(x)`` tokens at a time (bounded hidden activations);
    otherwise it is the plain composition.

    Args:
        embed_dims (int): d.
        hidden_dims (int): h.
        drop_rate (float): Dropout after the activation and the output.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 embed_dims: int,
                 hidden_dims: int,
                 drop_rate: float = 0.,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.fc1 = nn.Linear(embed_dims, hidden_dims)
        self.fc2 = nn.Linear(hidden_dims, embed_dims)
        self.drop_rate = drop_rate

    def forward(self, x: Tensor, norm: Optional[nn.Module] = None) -> Tensor:
        """(..., d) -> (..., d); ``norm`` is applied to x first."""
        if self.drop_rate == 0 and can_fuse(x, norm):
            return norm_gelu_ffn(x, norm, self.fc1, self.fc2)
        if not torch.is_grad_enabled() and (self.drop_rate == 0
                                            or not self.training):
            return self._forward_in_row_chunks(x, norm)
        h = x if norm is None else norm(x)
        h = F.dropout(F.gelu(self.fc1(h)), self.drop_rate, self.training)
        return F.dropout(self.fc2(h), self.drop_rate, self.training)

    def _forward_in_row_chunks(self, x: Tensor,
                               norm: Optional[nn.Module]) -> Tensor:
        """Inference over ``chunk_rows(x)`` tokens at a time: the
        hidden activations (4x wider than x) stay small and in cache."""
        rows = x.reshape(-1, x.shape[-1])
        outs = []
        for part in rows.split(max(chunk_rows(x), 1)):
            h = part if norm is None else norm(part)
            outs.append(self.fc2(F.gelu(self.fc1(h))))
        if not outs:  # no tokens
            return x.new_empty(*x.shape[:-1], self.fc2.out_features)
        out = outs[0] if len(outs) == 1 else torch.cat(outs)
        return out.view(*x.shape[:-1], self.fc2.out_features)
