# Copyright (c) mmexact contributors. All rights reserved.
from typing import Optional, Sequence

import torch
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmseg.registry import MODELS
from ..utils.conv_lstm import ConvLSTM
from ..utils.sits_unet import conv_norm_act, conv_stack
from ..utils.temporal_utils import frame_wise, split_sits_inputs

__all__ = ['FPNConvLSTM']


class _FeaturePyramid(nn.Module):
    """3x3 convolution, then parallel dilated 3x3 convolutions and a global
    max-pooled context vector, concatenated along the channels."""

    def __init__(self, in_channels: int, channels: int, num_levels: int,
                 padding_mode: str) -> None:
        super().__init__()
        self.in_conv = nn.Conv2d(in_channels, channels, 3, padding=1)
        self.branches = nn.ModuleList(
            nn.Conv2d(channels, channels, 3, padding=2**i, dilation=2**i,
                      padding_mode=padding_mode)
            for i in range(num_levels - 1))
        self.out_channels = num_levels * channels

    def forward(self, x: Tensor) -> Tensor:
        x = self.in_conv(x)
        context = x.amax(dim=(-2, -1), keepdim=True).expand_as(x)
        return torch.cat([b(x) for b in self.branches] + [context], dim=1)


@MODELS.register_module()
class FPNConvLSTM(BaseModule):
    """Feature-pyramid encoder shared by the frames + convolutional LSTM.

    `Fully convolutional recurrent networks for multidate crop recognition
    from multitemporal image sequences
    <https://doi.org/10.1016/j.isprsjprs.2020.11.007>`_ (Martinez et al.,
    ISPRS J. Photogramm. Remote Sens. 171, 188-201, 2021), as configured in the PASTIS benchmark (Garnot &
    Landrieu 2021). Every frame goes through 3x3 convolutions
    (``stem_channels``, group norm, ReLU), a feature pyramid (a 3x3
    convolution to ``pyramid_channels``, ``num_levels - 1`` parallel 3x3
    convolutions of dilation 1, 2, 4, ... and the global max over the map,
    concatenated) and a 3x3 convolution to ``num_levels * pyramid_channels
    / 2`` channels (group norm, ReLU); a :class:`ConvLSTM` then runs over
    the frames at full resolution. Its final cell state is the output
    (the paper's 1x1 classifier belongs to the decode head).

    Padded frames (day of year 0) are not encoded and leave the recurrent
    state unchanged.

    Args:
        in_channels (int): Spectral bands C. Defaults to 10.
        stem_channels (Sequence[int]): Widths of the input convolutions.
            Defaults to (32, 64).
        pyramid_channels (int): Width of each pyramid level. Defaults to 64.
        num_levels (int): Pyramid levels. Defaults to 4.
        hidden_channels (int): ConvLSTM width. Defaults to 88.
        norm_cfg (dict): Defaults to GroupNorm with 4 groups.
        padding_mode (str): Defaults to ``'reflect'``.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 in_channels: int = 10,
                 stem_channels: Sequence[int] = (32, 64),
                 pyramid_channels: int = 64,
                 num_levels: int = 4,
                 hidden_channels: int = 88,
                 norm_cfg: dict = dict(type='GN', num_groups=4),
                 padding_mode: str = 'reflect',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.in_channels = in_channels
        self.out_channels = hidden_channels
        self.stem = conv_stack((in_channels, ) + tuple(stem_channels),
                               norm_cfg, padding_mode)
        self.pyramid = _FeaturePyramid(stem_channels[-1], pyramid_channels,
                                       num_levels, padding_mode)
        mid = num_levels * pyramid_channels // 2
        self.mid_conv = conv_norm_act(self.pyramid.out_channels, mid, 3,
                                      norm_cfg, padding_mode=padding_mode)
        self.temporal_encoder = ConvLSTM(mid, hidden_channels)

    def encode_frame(self, x: Tensor) -> Tensor:
        """Per-frame features (N, C, H, W) -> (N, mid, H, W)."""
        return self.mid_conv(self.pyramid(self.stem(x)))

    def forward(self, inputs: Tensor) -> tuple:
        """Encode a packed SITS batch.

        Args:
            inputs (Tensor): Packed SITS (B, T, C + 1, H, W).

        Returns:
            tuple[Tensor]: one (B, hidden_channels, H, W) map.
        """
        x, _, valid = split_sits_inputs(inputs, self.in_channels,
                                        'FPNConvLSTM')
        feats = frame_wise(self.encode_frame, x, valid)
        _, cell = self.temporal_encoder(feats, valid)
        return (cell, )
