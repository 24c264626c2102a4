# Copyright (c) mmexact contributors. All rights reserved.
import math
from typing import Optional, Sequence, Tuple

import torch
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmseg.registry import MODELS
from .temporal_utils import date_positional_encoding

__all__ = ['LTAE2d']


@MODELS.register_module()
class LTAE2d(BaseModule):
    """Lightweight Temporal Attention Encoder, shared by all pixels.

    `Lightweight Temporal Self-Attention for Classifying Satellite Images
    Time Series <https://arxiv.org/abs/2007.00586>`_ (Garnot & Landrieu,
    2020), in the pixel-wise form of U-TAE (ICCV 2021). For each pixel the
    sequence of features (T, C) is

    1. group-normalised (``num_heads`` groups, statistics over the valid
       frames only; the reference includes the padded frames, which makes
       its output depend on the amount of padding) and projected to
       ``embed_dims`` by a shared linear layer, then the sinusoidal encoding
       of the acquisition date (width ``embed_dims / num_heads``, repeated
       for every head) is added;
    2. each head g has one learned master query ``q_g`` (``key_dims``) and
       keys ``k_{g,t}`` (a shared ``Linear(embed_dims, heads * key_dims)``);
       its attention ``a_{g,t} = softmax_t(q_g . k_{g,t} / sqrt(key_dims))``
       (padded frames excluded) weights the g-th channel group of the
       inputs, ``o_g = sum_t a_{g,t} x_t[group g]``;
    3. the concatenated head outputs go through an MLP (Linear -> BatchNorm
       -> ReLU per layer), dropout and a final group norm.

    Besides the feature map it returns the attention masks (heads, B, T, H,
    W), which U-TAE uses to collapse the time axis of its skip connections.

    Args:
        in_channels (int): Input width C. Defaults to 128.
        embed_dims (int): Width after the input projection. Defaults to 256.
        num_heads (int): Heads G. Defaults to 16.
        key_dims (int): Query / key width. Defaults to 4.
        mlp_channels (Sequence[int]): MLP widths, starting at
            ``embed_dims``. Defaults to (256, 128).
        dropout (float): Dropout after the MLP. Defaults to 0.2.
        attn_dropout (float): Dropout on the attention. Defaults to 0.1.
        date_period (float): Period of the date encoding. Defaults to 1000.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 in_channels: int = 128,
                 embed_dims: int = 256,
                 num_heads: int = 16,
                 key_dims: int = 4,
                 mlp_channels: Sequence[int] = (256, 128),
                 dropout: float = 0.2,
                 attn_dropout: float = 0.1,
                 date_period: float = 1000.,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if embed_dims % num_heads or in_channels % num_heads:
            raise ValueError(f'in_channels ({in_channels}) and embed_dims '
                             f'({embed_dims}) must be multiples of num_heads '
                             f'({num_heads})')
        if mlp_channels[0] != embed_dims:
            raise ValueError('mlp_channels must start at embed_dims '
                             f'({embed_dims}), got {tuple(mlp_channels)}')
        self.in_channels = in_channels
        self.embed_dims = embed_dims
        self.num_heads = num_heads
        self.key_dims = key_dims
        self.out_channels = mlp_channels[-1]
        self.date_period = date_period
        self.in_norm = nn.GroupNorm(num_heads, in_channels)
        self.in_proj = nn.Linear(in_channels, embed_dims)
        self.query = nn.Parameter(
            torch.randn(num_heads, key_dims) * math.sqrt(2. / key_dims))
        self.key_proj = nn.Linear(embed_dims, num_heads * key_dims)
        nn.init.normal_(self.key_proj.weight, std=math.sqrt(2. / key_dims))
        layers = []
        for c_in, c_out in zip(mlp_channels[:-1], mlp_channels[1:]):
            layers += [nn.Linear(c_in, c_out), nn.BatchNorm1d(c_out),
                       nn.ReLU(inplace=True)]
        self.mlp = nn.Sequential(*layers)
        self.dropout = nn.Dropout(dropout)
        self.attn_dropout = nn.Dropout(attn_dropout)
        self.out_norm = nn.GroupNorm(num_heads, self.out_channels)

    def masked_in_norm(self, seq: Tensor, pad: Tensor) -> Tensor:
        """Group norm of (N, T, C) sequences over channels and valid frames.

        Like ``GroupNorm`` on (N, C, T), but the statistics of each group
        ignore the padded frames (``pad`` (N, T) True), so that padding
        does not change the result.
        """
        n, t, c = seq.shape
        g = self.in_norm.num_groups
        w = (~pad).to(seq.dtype)[:, :, None, None]  # (N, T, 1, 1)
        x = seq.view(n, t, g, c // g)
        count = w.sum(dim=1, keepdim=True).clamp(min=1) * (c // g)
        mean = (x * w).sum(dim=(1, 3), keepdim=True) / count
        var = ((x - mean).pow(2) * w).sum(dim=(1, 3), keepdim=True) / count
        x = ((x - mean) / torch.sqrt(var + self.in_norm.eps)).view(n, t, c)
        return x * self.in_norm.weight + self.in_norm.bias

    def forward(self, x: Tensor, doy: Tensor,
                valid: Tensor) -> Tuple[Tensor, Tensor]:
        """Collapse the time axis of a feature-map sequence.

        Args:
            x (Tensor): Features (B, T, C, H, W).
            doy (Tensor): Day of year of each frame (B, T).
            valid (Tensor): Valid-frame mask (B, T) bool.

        Returns:
            tuple: features (B, C_out, H, W) and attention masks
            (heads, B, T, H, W) that sum to 1 over the valid frames.
        """
        b, t, c, h, w = x.shape
        g = self.num_heads
        seq = x.permute(0, 3, 4, 1, 2).reshape(b * h * w, t, c)
        pad = (~valid).repeat_interleave(h * w, dim=0)  # (N, T)
        seq = self.in_proj(self.masked_in_norm(seq, pad))
        pos = date_positional_encoding(doy, self.embed_dims // g,
                                       self.date_period).repeat(1, 1, g)
        seq = seq + pos.to(seq.dtype).repeat_interleave(h * w, dim=0)
        keys = self.key_proj(seq).view(b * h * w, t, g, self.key_dims)
        scores = torch.einsum('ntgk,gk->ngt', keys, self.query.to(keys))
        scores = scores / math.sqrt(self.key_dims)
        attn = scores.masked_fill(pad[:, None, :],
                                  float('-inf')).softmax(dim=-1)
        values = seq.view(b * h * w, t, g, self.embed_dims // g)
        out = torch.einsum('ngt,ntgd->ngd', self.attn_dropout(attn), values)
        out = self.dropout(self.mlp(out.reshape(b * h * w, -1)))
        out = self.out_norm(out)
        out = out.view(b, h, w, -1).permute(0, 3, 1, 2)
        attn = attn.view(b, h, w, g, t).permute(3, 0, 4, 1, 2)
        return out, attn
