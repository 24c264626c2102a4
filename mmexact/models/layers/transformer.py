# Copyright (c) mmexact contributors. All rights reserved.
from typing import List, Optional, Tuple

import torch.utils.checkpoint as cp
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule, ModuleList
from torch import Tensor

from .act_ffn import ActFFN
from .attention import SDPAttention
from .gelu_ffn import GeluFFN

__all__ = ['RESIDUAL_MODES', 'TransformerLayer', 'TransformerEncoder']

# How the attention sub-block adds its skip connection (exact-method.md §3.2,
# §8.1): 'standard' = x + MHSA(LN(x)) (TSViT paper); 'normed_skip' =
# LN(x) + MHSA(LN(x)) (Exact classification network); 'double_skip' =
# x + LN(x) + MHSA(LN(x)) (Exact's TSViT segmentation network).
RESIDUAL_MODES = ('standard', 'normed_skip', 'double_skip')
_RENAMED = dict(exact_cls='normed_skip', exact_seg='double_skip')


class TransformerLayer(BaseModule):
    """Pre-norm transformer layer: attention sub-block then FFN sub-block.

    Args:
        embed_dims (int): Token width d.
        num_heads (int): Attention heads.
        head_dims (int): Width per head.
        ffn_dims (int): Hidden width of the FFN.
        residual_mode (str): One of :data:`RESIDUAL_MODES`.
        drop_rate (float): Dropout in attention output and FFN.
        norm_cfg (dict): Norm layer config. Defaults to ``dict(type='LN')``.
        act_cfg (dict): FFN activation, any of mmcv's registry. The exact
            (erf) GELU, ``dict(type='GELU')`` (default), runs through the
            memory-lean :class:`GeluFFN`; any other activation (ReLU, SiLU,
            ``GELU`` with ``approximate='tanh'``, ...) through the plain
            :class:`ActFFN`. Both have the same parameters.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 embed_dims: int,
                 num_heads: int,
                 head_dims: int,
                 ffn_dims: int,
                 residual_mode: str = 'standard',
                 drop_rate: float = 0.,
                 norm_cfg: dict = dict(type='LN'),
                 act_cfg: dict = dict(type='GELU'),
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if residual_mode in _RENAMED:
            raise ValueError(f'residual_mode {residual_mode!r} is now called '
                             f'{_RENAMED[residual_mode]!r}')
        if residual_mode not in RESIDUAL_MODES:
            raise ValueError(f'residual_mode must be one of {RESIDUAL_MODES},'
                             f' got {residual_mode!r}')
        self.residual_mode = residual_mode
        self.norm1 = build_norm_layer(norm_cfg, embed_dims)[1]
        self.attn = SDPAttention(
            embed_dims, num_heads, head_dims, proj_drop=drop_rate)
        self.norm2 = build_norm_layer(norm_cfg, embed_dims)[1]
        if dict(act_cfg) in (dict(type='GELU'),
                             dict(type='GELU', approximate='none')):
            self.ffn = GeluFFN(embed_dims, ffn_dims, drop_rate)
        else:
            self.ffn = ActFFN(embed_dims, ffn_dims, act_cfg, drop_rate)

    def forward(self,
                x: Tensor,
                key_mask: Optional[Tensor] = None,
                slice_queries: int = 0) -> Tuple[Tensor, Optional[Tensor]]:
        """Forward (N, L, d) tokens; see :meth:`SDPAttention.forward`."""
        u, q, k, v = self.attn.project(x, self.norm1)
        a, attn_slice = self.attn.attend(q, k, v, key_mask, slice_queries)
        if self.residual_mode == 'standard':
            h = x + a
        elif self.residual_mode == 'normed_skip':
            h = u + a
        else:  # double_skip
            h = x + u + a
        return h + self.ffn(h, self.norm2), attn_slice


class TransformerEncoder(BaseModule):
    """A stack of :class:`TransformerLayer` followed by a final norm.

    Args:
        depth (int): Number of layers.
        with_cp (bool): Use gradient checkpointing per layer (saves memory,
            costs one extra forward). Defaults to False.
        **layer_kwargs: Passed to every :class:`TransformerLayer`.
    """

    def __init__(self,
                 depth: int,
                 with_cp: bool = False,
                 norm_cfg: dict = dict(type='LN'),
                 init_cfg: Optional[dict] = None,
                 **layer_kwargs) -> None:
        super().__init__(init_cfg=init_cfg)
        self.with_cp = with_cp
        self.layers = ModuleList([
            TransformerLayer(norm_cfg=norm_cfg, **layer_kwargs)
            for _ in range(depth)
        ])
        self.norm = build_norm_layer(norm_cfg, layer_kwargs['embed_dims'])[1]

    def forward(self,
                x: Tensor,
                key_mask: Optional[Tensor] = None,
                slice_queries: int = 0) -> Tuple[Tensor, List[Tensor]]:
        """Run all layers.

        Returns:
            tuple[Tensor, list[Tensor]]: Normalised output (N, L, d) and
            the per-layer attention slices (empty unless
            ``slice_queries > 0``).
        """
        slices = []
        for layer in self.layers:
            if self.with_cp and x.requires_grad:
                x, s = cp.checkpoint(
                    layer, x, key_mask, slice_queries, use_reentrant=False)
            else:
                x, s = layer(x, key_mask, slice_queries)
            if s is not None:
                slices.append(s)
        return self.norm(x), slices
