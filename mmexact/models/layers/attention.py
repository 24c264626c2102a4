# Copyright (c) mmexact contributors. All rights reserved.
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor, nn

from .fused_ops import can_fuse, norm_linears

__all__ = ['SDPAttention']


class SDPAttention(BaseModule):
    """Multi-head self-attention through ``scaled_dot_product_attention``.

    ``qkv`` is one bias-free ``Linear(embed_dims, 3 * num_heads *
    head_dims)`` whose output is laid out ``(q | k | v, head, dim)``; the
    output projection has a bias. Optionally returns the head-averaged
    attention probabilities of the first ``num_query_tokens`` queries over
    the remaining keys (the "class-to-frame" slice Exact's temporal clues
    need) without materialising the full attention map.

    Args:
        embed_dims (int): Token width d.
        num_heads (int): Number of heads.
        head_dims (int): Width of each head.
        attn_drop (float): Dropout on attention weights (training only).
        proj_drop (float): Dropout after the output projection.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 embed_dims: int,
                 num_heads: int,
                 head_dims: int,
                 attn_drop: float = 0.,
                 proj_drop: float = 0.,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.num_heads = num_heads
        self.head_dims = head_dims
        self.scale = head_dims**-0.5
        inner = num_heads * head_dims
        self.qkv = nn.Linear(embed_dims, 3 * inner, bias=False)
        self.proj = nn.Linear(inner, embed_dims)
        self.attn_drop = attn_drop
        self.proj_drop = nn.Dropout(proj_drop)

    def project(self, x: Tensor, norm: Optional[nn.Module] = None
                ) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
        """Optional pre-norm and the q / k / v projections.

        Each of q, k, v is a transposed view (N, h, L, dh) of a contiguous
        (N, L, h, dh) tensor, which SDPA reads in place. While gradients
        are recorded, ``norm(x)`` is recomputed in backward instead of
        being stored (:func:`norm_linears`).

        Args:
            x (Tensor): Tokens (N, L, d).
            norm (nn.Module, optional): Pre-norm applied to x first.

        Returns:
            tuple[Tensor]: ``norm(x)`` (N, L, d) and q, k, v.
        """
        n, length, _ = x.shape
        if can_fuse(x, norm):
            u, *qkv = norm_linears(x, norm, self.qkv.weight, 3)
        else:
            u = x if norm is None else norm(x)
            qkv = [F.linear(u, w) for w in self.qkv.weight.chunk(3)]
        q, k, v = (t.view(n, length, self.num_heads,
                          self.head_dims).transpose(1, 2) for t in qkv)
        return u, q, k, v

    def attend(self,
               q: Tensor,
               k: Tensor,
               v: Tensor,
               key_mask: Optional[Tensor] = None,
               slice_queries: int = 0) -> Tuple[Tensor, Optional[Tensor]]:
        """Attention of projected (N, h, L, dh) q, k, v and the output
        projection; see :meth:`forward`."""
        n, _, length, _ = q.shape
        mask = None if key_mask is None else key_mask[:, None, None, :]
        dropout = self.attn_drop if self.training else 0.
        if q.device.type == 'cpu' and q.dtype in (torch.bfloat16,
                                                  torch.float16):
            # The CPU attention kernel's backward is about 2x slower in
            # bf16 than in fp32 (torch 2.13): attend on fp32 copies
            with torch.autocast('cpu', enabled=False):
                out = F.scaled_dot_product_attention(
                    q.float(), k.float(), v.float(), attn_mask=mask,
                    dropout_p=dropout).to(q.dtype)
        else:
            out = F.scaled_dot_product_attention(
                q, k, v, attn_mask=mask, dropout_p=dropout)
        out = out.transpose(1, 2).reshape(n, length,
                                          self.num_heads * self.head_dims)
        out = self.proj_drop(self.proj(out))
        attn_slice = None
        if slice_queries > 0:
            attn_slice = self._query_slice(q, k, mask, slice_queries)
        return out, attn_slice

    def forward(self,
                x: Tensor,
                key_mask: Optional[Tensor] = None,
                slice_queries: int = 0) -> Tuple[Tensor, Optional[Tensor]]:
        """Forward.

        Args:
            x (Tensor): Tokens (N, L, d).
            key_mask (Tensor, optional): Bool (N, L), True = key may be
                attended. ``None`` attends to every key.
            slice_queries (int): If > 0, also return the head-averaged
                softmax probabilities of queries ``[:slice_queries]`` over
                keys ``[slice_queries:]``, without gradient (a clue, not a
                learned output).

        Returns:
            tuple[Tensor, Tensor | None]: Output (N, L, d) and the
            attention slice (N, slice_queries, L - slice_queries) or None.
        """
        return self.attend(*self.project(x)[1:], key_mask, slice_queries)

    @torch.no_grad()
    def _query_slice(self, q: Tensor, k: Tensor, mask: Optional[Tensor],
                     num: int) -> Tensor:
        # Only `num` query rows are scored: (N, h, num, L) instead of L x L.
        # q, k are transposed views; a row-contiguous k lets the batched
        # product read k^T in place instead of copying it transposed
        logits = torch.matmul(q[:, :, :num].contiguous(),
                              k.contiguous().transpose(-2, -1)) * self.scale
        if mask is not None:
            logits = logits.masked_fill(~mask, float('-inf'))
        probs = logits.float().softmax(dim=-1)
        return probs[..., num:].mean(dim=1).to(q.dtype)
