# Copyright (c) mmexact contributors. All rights reserved.
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from mmseg.registry import MODELS
from ..utils.ltae import LTAE2d
from ..utils.sits_unet import TemporalUNet
from ..utils.temporal_utils import masked_temporal_mean

__all__ = ['UTAE']


@MODELS.register_module()
class UTAE(TemporalUNet):
    """U-TAE: U-Net with a lightweight temporal attention encoder.

    `Panoptic Segmentation of Satellite Image Time Series with
    Convolutional Temporal Attention Networks
    <https://arxiv.org/abs/2107.07933>`_ (Garnot & Landrieu, ICCV 2021).

    A shared convolutional encoder maps every frame to ``len(
    encoder_widths)`` resolutions; at the lowest one an :class:`LTAE2d`
    computes per-pixel temporal attention masks (one per head) and the
    collapsed bottom map. The masks, bilinearly up-sampled, collapse the
    time axis of every skip connection (``skip_aggregation='att_group'``:
    head g weights the g-th channel group, the paper's choice;
    ``'att_mean'``: the mean of the heads weights all channels; ``'mean'``:
    plain mean over the valid frames). A convolutional decoder brings the
    maps back to the input resolution. The defaults are the published PASTIS
    configuration (encoder 64, 64, 64, 128; decoder 32, 32, 64, 128; group
    norm in the encoder, batch norm in the decoder; L-TAE with 16 heads,
    d_k 4, d_model 256, MLP 256 -> 128; reflect padding); the paper's
    output convolutions (32 -> 32 -> 20) belong to the decode head.

    Padded frames (day of year 0) are not encoded, get zero attention and
    do not enter the skip aggregation: the output does not depend on the
    amount of padding. Dates are the day of year of the pipeline (the
    paper counts days from a fixed reference date), encoded with L-TAE's
    sinusoids of period 1000.

    Args:
        in_channels (int): Spectral bands C. Defaults to 10.
        encoder_widths (Sequence[int]): Defaults to (64, 64, 64, 128).
        decoder_widths (Sequence[int]): Defaults to (32, 32, 64, 128).
        ltae (dict): :class:`LTAE2d` arguments (``in_channels`` and the
            last MLP width are set to the last encoder width).
        skip_aggregation (str): ``'att_group'``, ``'att_mean'`` or
            ``'mean'``. Defaults to ``'att_group'``.
        encoder_norm_cfg (dict): Defaults to GroupNorm with 4 groups.
        decoder_norm_cfg (dict): Defaults to BatchNorm.
        padding_mode (str): Defaults to ``'reflect'``.
        out_indices (Sequence[int]): Decoder levels returned, finest first.
            Defaults to (0, ): the (B, 32, H, W) map.
        init_cfg (dict, optional): Initialisation config.
    """

    AGGREGATIONS = ('att_group', 'att_mean', 'mean')

    def __init__(self,
                 in_channels: int = 10,
                 encoder_widths: Sequence[int] = (64, 64, 64, 128),
                 decoder_widths: Sequence[int] = (32, 32, 64, 128),
                 ltae: dict = dict(
                     embed_dims=256, num_heads=16, key_dims=4,
                     mlp_channels=(256, ), dropout=0.2),
                 skip_aggregation: str = 'att_group',
                 encoder_norm_cfg: dict = dict(type='GN', num_groups=4),
                 decoder_norm_cfg: dict = dict(type='BN'),
                 padding_mode: str = 'reflect',
                 out_indices: Sequence[int] = (0, ),
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(
            in_channels=in_channels,
            encoder_widths=encoder_widths,
            decoder_widths=decoder_widths,
            encoder_norm_cfg=encoder_norm_cfg,
            decoder_norm_cfg=decoder_norm_cfg,
            padding_mode=padding_mode,
            out_indices=out_indices,
            init_cfg=init_cfg)
        if skip_aggregation not in self.AGGREGATIONS:
            raise ValueError(f'skip_aggregation must be one of '
                             f'{self.AGGREGATIONS}, got {skip_aggregation!r}')
        self.skip_aggregation = skip_aggregation
        cfg = dict(ltae)
        mlp = tuple(cfg.pop('mlp_channels', (cfg.get('embed_dims', 256), )))
        if mlp[-1] != encoder_widths[-1]:
            mlp = mlp + (encoder_widths[-1], )
        self.temporal_encoder = LTAE2d(
            in_channels=encoder_widths[-1], mlp_channels=mlp, **cfg)
        heads = self.temporal_encoder.num_heads
        if skip_aggregation == 'att_group' and any(
                c % heads for c in encoder_widths[:-1]):
            raise ValueError(
                "'att_group' needs encoder widths divisible by the "
                f'{heads} heads, got {tuple(encoder_widths)}')

    def aggregate(self, x: Tensor, attn: Tensor, valid: Tensor) -> Tensor:
        """Collapse the time axis of a skip map.

        Args:
            x (Tensor): Per-frame maps (B, T, C, H, W).
            attn (Tensor): L-TAE masks (G, B, T, h, w).
            valid (Tensor): Valid-frame mask (B, T).

        Returns:
            Tensor: (B, C, H, W).
        """
        if self.skip_aggregation == 'mean':
            return masked_temporal_mean(x, valid)
        g, b, t = attn.shape[:3]
        size = x.shape[-2:]
        if self.skip_aggregation == 'att_mean':
            a = F.interpolate(attn.mean(dim=0), size=size, mode='bilinear',
                              align_corners=False)
            return torch.einsum('bthw,btchw->bchw', a, x)
        a = F.interpolate(attn.flatten(0, 1), size=size, mode='bilinear',
                          align_corners=False).view(g, b, t, *size)
        groups = x.view(b, t, g, x.shape[2] // g, *size)
        out = torch.einsum('gbthw,btgchw->bgchw', a, groups)
        return out.flatten(1, 2)

    def collapse(self, feats: List[Tensor], doy: Tensor,
                 valid: Tensor) -> Tuple[Tensor, List[Tensor]]:
        bottom, attn = self.temporal_encoder(feats[-1], doy, valid)
        skips = [self.aggregate(f, attn, valid) for f in feats[:-1]]
        return bottom, skips
