# Copyright (c) mmexact contributors. All rights reserved.
from typing import Dict, Optional, Tuple, Union

import torch
from einops import rearrange
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmseg.registry import MODELS
from ..layers import TransformerEncoder

__all__ = ['TSViT']


@MODELS.register_module()
class TSViT(BaseModule):
    """TSViT: factorised temporo-spatial vision transformer for SITS.

    `ViTs for SITS: Vision Transformers for Satellite Image Time Series
    <https://arxiv.org/abs/2301.04944>`_ (Tarasiou et al., CVPR 2023).

    The input is a packed SITS tensor (B, T, C + 1, H, W) whose last channel
    holds the integer day of year of each frame (1..366; 0 marks a padded
    frame), as produced by ``PackSITSInputs``. Each P x P patch becomes one
    token per frame (``Linear(P*P*C -> d)`` over values ordered
    (row-in-patch, col-in-patch, band), band fastest) plus a learned date
    embedding (one-hot of width ``doy_vocab`` -> ``Linear``). The temporal
    encoder runs per patch on ``[K class tokens, T frame tokens]``; the K
    class-token outputs of every patch then form K spatial sequences of
    N = (H/P)(W/P) tokens (+ a learned position embedding, optionally after
    one shared spatial class token) for the spatial encoder.

    Reference switches (values reproducing Exact's released code):

    - ``residual_mode``: ``'double_skip'`` for Exact's segmentation network,
      ``'normed_skip'`` for its classification network, ``'standard'`` for the
      TSViT paper (default).
    - ``mask_padded_frames``: True (default) excludes padded frames from
      attention, so padding a series from T to 48 or to 60 frames gives the
      same output. The reference does not mask (False): its zero frames
      carry date index 0 and act as ordinary keys, which makes the output
      depend on the padding length. Default True because a result that
      depends on the amount of padding is a defect; use False to load and
      reproduce reference weights exactly.
    - ``emulate_date_truncation``: the reference stores ``doy / 365.0001``
      and recovers the index with a float32 round trip, which maps some days
      to ``doy - 1`` (exact-method.md §3.1). True reproduces that; False
      (default) uses the day of year itself.

    Date index = day of year (0 for padded frames); ``doy_vocab`` = 366
    covers 0..365, and day 366 (31 December of a leap year) shares the
    column of day 365.

    Args:
        img_size (int | tuple[int, int]): Window size H, W. Defaults to 24.
        patch_size (int): Patch size P. Defaults to 2.
        in_channels (int): Spectral bands C (without the date channel).
            Defaults to 10.
        embed_dims (int): Token width d. Defaults to 128.
        num_tokens (int): Temporal class tokens K (one per output class).
            Defaults to 19.
        temporal_depth (int): Temporal encoder layers. Defaults to 4.
        spatial_depth (int): Spatial encoder layers. Defaults to 4.
        num_heads (int): Attention heads. Defaults to 4.
        head_dims (int): Width per head. Defaults to 32.
        ffn_dims (int): FFN hidden width. Defaults to 512.
        drop_rate (float): Dropout inside both encoders (attention output
            and FFN), the reference's ``dropout``. Defaults to 0.
        act_cfg (dict): FFN activation of every layer (mmcv config).
            Defaults to ``dict(type='GELU')`` (exact GELU, the reference's
            and the memory-lean fused FFN's).
        emb_drop_rate (float): Dropout of the spatial encoder's input
            tokens, the reference's ``emb_dropout`` (the temporal encoder's
            input is not dropped, as in the reference). Defaults to 0.
        doy_vocab (int): Width of the date one-hot. Defaults to 366.
        spatial_cls_token (bool): Prepend one learned token (shared by all
            classes) to every spatial sequence; its output is returned as
            the global token. Defaults to False.
        residual_mode (str): See above. Defaults to ``'standard'``.
        mask_padded_frames (bool): See above. Defaults to True.
        emulate_date_truncation (bool): See above. Defaults to False.
        out_type (str): ``'tokens'``: a 1-tuple with the per-class feature
            maps (B, K, d, h, w) for :class:`TSViTHead`; ``'featmap'``:
            ordinary feature maps (B, K*d, h, w) for any mmseg decode head;
            ``'raw'``: a dict with every intermediate (see :meth:`forward`).
        with_temporal_attention (bool): In ``'raw'`` mode, also return the
            class-to-frame attention averaged over layers, heads and patches
            (Exact's temporal clue). Defaults to False.
        with_cp (bool): Gradient checkpointing per layer. Defaults to False.
        init_cfg (dict, optional): Initialisation config.
    """

    OUT_TYPES = ('tokens', 'featmap', 'raw')

    def __init__(self,
                 img_size: Union[int, Tuple[int, int]] = 24,
                 patch_size: int = 2,
                 in_channels: int = 10,
                 embed_dims: int = 128,
                 num_tokens: int = 19,
                 temporal_depth: int = 4,
                 spatial_depth: int = 4,
                 num_heads: int = 4,
                 head_dims: int = 32,
                 ffn_dims: int = 512,
                 drop_rate: float = 0.,
                 emb_drop_rate: float = 0.,
                 act_cfg: dict = dict(type='GELU'),
                 doy_vocab: int = 366,
                 spatial_cls_token: bool = False,
                 residual_mode: str = 'standard',
                 mask_padded_frames: bool = True,
                 emulate_date_truncation: bool = False,
                 out_type: str = 'tokens',
                 with_temporal_attention: bool = False,
                 with_cp: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        img_size = (img_size, img_size) if isinstance(img_size,
                                                      int) else img_size
        if img_size[0] % patch_size or img_size[1] % patch_size:
            raise ValueError(f'img_size {tuple(img_size)} is not divisible '
                             f'by patch_size {patch_size}')
        if out_type not in self.OUT_TYPES:
            raise ValueError(f'out_type must be one of {self.OUT_TYPES}, '
                             f'got {out_type!r}')
        self.img_size = tuple(img_size)
        self.patch_size = patch_size
        self.in_channels = in_channels
        self.embed_dims = embed_dims
        self.num_tokens = num_tokens
        self.grid = (img_size[0] // patch_size, img_size[1] // patch_size)
        self.num_patches = self.grid[0] * self.grid[1]
        self.doy_vocab = doy_vocab
        self.mask_padded_frames = mask_padded_frames
        self.emulate_date_truncation = emulate_date_truncation
        self.out_type = out_type
        self.with_temporal_attention = with_temporal_attention

        self.patch_embed = nn.Linear(patch_size * patch_size * in_channels,
                                     embed_dims)
        self.date_embed = nn.Linear(doy_vocab, embed_dims)
        self.temporal_tokens = nn.Parameter(
            torch.randn(1, num_tokens, embed_dims))
        self.spatial_pos_embed = nn.Parameter(
            torch.randn(1, self.num_patches, embed_dims))
        self.spatial_token = nn.Parameter(torch.randn(
            1, 1, embed_dims)) if spatial_cls_token else None
        layer = dict(
            embed_dims=embed_dims,
            num_heads=num_heads,
            head_dims=head_dims,
            ffn_dims=ffn_dims,
            residual_mode=residual_mode,
            drop_rate=drop_rate,
            act_cfg=act_cfg)
        self.temporal_encoder = TransformerEncoder(
            temporal_depth, with_cp=with_cp, **layer)
        self.spatial_encoder = TransformerEncoder(
            spatial_depth, with_cp=with_cp, **layer)
        self.emb_drop = nn.Dropout(emb_drop_rate)

    # ------------------------------------------------------------------
    def date_index(self, doy: Tensor) -> Tensor:
        """Map day-of-year values (B, T) to one-hot columns (B, T) long.

        With ``emulate_date_truncation`` the index is looked up in a table
        computed on the CPU in float32, exactly as the reference computes it
        (CUDA divides by a float through its reciprocal, which would not
        reproduce the reference's shifts on a GPU).
        """
        doy = doy.round().long().clamp_(0, 366)
        if self.emulate_date_truncation:
            table = (torch.arange(367, dtype=torch.float32) / 365.0001 *
                     365.0001).long()
            doy = table.to(doy.device)[doy]
        return doy.clamp_(0, self.doy_vocab - 1)

    def embed(self, x: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        """Patch + date embedding.

        Args:
            x (Tensor): Packed SITS (B, T, C + 1, H, W).

        Returns:
            tuple: tokens (B, N, T, d), valid-frame mask (B, T) bool, and the
            day-of-year values (B, T).
        """
        if x.dim() != 5:
            raise ValueError('TSViT expects inputs (B, T, C + 1, H, W), got '
                             f'shape {tuple(x.shape)}')
        b, t, c, h, w = x.shape
        if c != self.in_channels + 1:
            raise ValueError(
                f'TSViT expects {self.in_channels} bands + 1 day-of-year '
                f'channel, got {c} channels')
        if (h, w) != self.img_size:
            raise ValueError(f'TSViT was built for {self.img_size} windows, '
                             f'got {(h, w)}; use slide inference for larger'
                             ' inputs')
        doy = x[:, :, -1, 0, 0]
        valid = doy > 0
        p = self.patch_size
        patches = rearrange(
            x[:, :, :-1],
            'b t c (gh p1) (gw p2) -> b (gh gw) t (p1 p2 c)',
            p1=p,
            p2=p)
        tokens = self.patch_embed(patches)
        date = self.date_embed.weight.t()[self.date_index(doy)]
        tokens = tokens + (date + self.date_embed.bias)[:, None]
        return tokens, valid, doy

    def temporal(self,
                 tokens: Tensor,
                 valid: Tensor,
                 with_attention: bool = False
                 ) -> Tuple[Tensor, Tensor, Optional[Tensor]]:
        """Temporal encoder over every patch.

        Args:
            tokens (Tensor): Frame tokens (B, N, T, d).
            valid (Tensor): Valid-frame mask (B, T).
            with_attention (bool): Also return the class->frame attention
                probabilities averaged over layers, heads and patches.
                Only the (K x T) query slice is computed per layer and it is
                reduced over patches at once, so the full attention maps
                are never stored.

        Returns:
            tuple: class-token outputs (B, N, K, d), frame outputs
            (B, N, T, d) and the attention (B, K, T) or None.
        """
        b, n, t, d = tokens.shape
        k = self.num_tokens
        seq = torch.cat(
            [self.temporal_tokens.expand(b * n, -1, -1),
             tokens.reshape(b * n, t, d)],
            dim=1)
        key_mask = None
        if self.mask_padded_frames and not bool(valid.all()):
            key_mask = torch.cat([valid.new_ones(b, k), valid], dim=1)
            key_mask = key_mask.repeat_interleave(n, dim=0)
        out, slices = self.temporal_encoder(
            seq, key_mask, k if with_attention else 0)
        out = out.view(b, n, k + t, d)
        attn = None
        if with_attention:
            attn = sum(s.view(b, n, k, t).mean(dim=1)
                       for s in slices) / len(slices)
        return out[:, :, :k], out[:, :, k:], attn

    def spatial(self, cls_feats: Tensor) -> Tuple[Tensor, Optional[Tensor]]:
        """Spatial encoder per class.

        Args:
            cls_feats (Tensor): Temporal class features (B, N, K, d).

        Returns:
            tuple: spatial features (B, K, N, d) and the global tokens
            (B, K, d) (None without ``spatial_cls_token``).
        """
        b, n, k, d = cls_feats.shape
        seq = cls_feats.permute(0, 2, 1, 3).reshape(b * k, n, d)
        seq = seq + self.spatial_pos_embed
        if self.spatial_token is not None:
            seq = torch.cat([self.spatial_token.expand(b * k, -1, -1), seq],
                            dim=1)
        out, _ = self.spatial_encoder(self.emb_drop(seq))
        out = out.view(b, k, -1, d)
        if self.spatial_token is None:
            return out, None
        return out[:, :, 1:], out[:, :, 0]

    def to_maps(self, feats: Tensor) -> Tensor:
        """(B, K, N, d) tokens -> (B, K, d, h, w) per-class feature maps."""
        b, k, n, d = feats.shape
        return feats.permute(0, 1, 3, 2).reshape(b, k, d, *self.grid)

    def forward(self, x: Tensor) -> Union[Tuple[Tensor], Dict[str, Tensor]]:
        """Forward.

        Args:
            x (Tensor): Packed SITS (B, T, C + 1, H, W).

        Returns:
            tuple | dict: Depends on ``out_type``. ``'raw'`` returns
            ``temporal_cls`` (B, N, K, d), ``temporal_seq`` (B, N, T, d),
            ``spatial`` (B, K, N, d), ``global_tokens`` (B, K, d) or None,
            ``temporal_attention`` (B, K, T) or None, ``frame_mask``
            (B, T): the frames that take part in attention (all frames
            when ``mask_padded_frames`` is False), and ``grid`` (h, w), the
            patch grid of the N tokens.
        """
        raw = self.out_type == 'raw'
        tokens, valid, _ = self.embed(x)
        cls_feats, seq_feats, attn = self.temporal(
            tokens, valid, raw and self.with_temporal_attention)
        spatial, global_tok = self.spatial(cls_feats)
        if raw:
            frame_mask = valid if self.mask_padded_frames \
                else torch.ones_like(valid)
            return dict(
                grid=self.grid,
                temporal_cls=cls_feats,
                temporal_seq=seq_feats,
                spatial=spatial,
                global_tokens=global_tok,
                temporal_attention=attn,
                frame_mask=frame_mask)
        maps = self.to_maps(spatial)
        if self.out_type == 'featmap':
            return (maps.flatten(1, 2), )
        return (maps, )
