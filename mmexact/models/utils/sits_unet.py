# Copyright (c) mmexact contributors. All rights reserved.
"""The spatial U-Net that U-TAE and its recurrent variant share.

Garnot & Landrieu (ICCV 2021): a convolutional encoder is
applied to every frame (shared weights), a temporal module collapses the
time axis at the lowest resolution and of every skip connection, and a
convolutional decoder maps back to the input resolution. Down-sampling and
up-sampling are strided (transposed) convolutions.
"""
from typing import List, Optional, Sequence, Tuple

import torch
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule
from torch import Tensor, nn

from .temporal_utils import frame_wise, split_sits_inputs

__all__ = [
    'conv_norm_act', 'conv_stack', 'UNetDownBlock', 'UNetUpBlock',
    'TemporalUNet'
]


def conv_norm_act(in_channels: int,
                  out_channels: int,
                  kernel_size: int,
                  norm_cfg: Optional[dict],
                  stride: int = 1,
                  padding: Optional[int] = None,
                  padding_mode: str = 'reflect') -> nn.Sequential:
    """Convolution (with bias, as in U-TAE) -> norm -> ReLU."""
    padding = kernel_size // 2 if padding is None else padding
    layers = [
        nn.Conv2d(
            in_channels,
            out_channels,
            kernel_size,
            stride=stride,
            padding=padding,
            padding_mode=padding_mode)
    ]
    if norm_cfg is not None:
        layers.append(build_norm_layer(norm_cfg, out_channels)[1])
    layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


def conv_stack(channels: Sequence[int],
               norm_cfg: Optional[dict],
               padding_mode: str = 'reflect',
               kernel_size: int = 3) -> nn.Sequential:
    """:func:`conv_norm_act` layers of widths ``channels``."""
    return nn.Sequential(*[
        conv_norm_act(c_in, c_out, kernel_size, norm_cfg,
                      padding_mode=padding_mode)
        for c_in, c_out in zip(channels[:-1], channels[1:])
    ])


class UNetDownBlock(BaseModule):
    """Strided 4x4 convolution (/2), then a residual pair of 3x3 layers.

    ``out = y + conv2(y)`` with ``y = conv1(down(x))``; every convolution is
    followed by the norm and a ReLU.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 norm_cfg: dict,
                 padding_mode: str = 'reflect') -> None:
        super().__init__()
        self.down = conv_norm_act(
            in_channels,
            in_channels,
            4,
            norm_cfg,
            stride=2,
            padding=1,
            padding_mode=padding_mode)
        self.conv1 = conv_stack((in_channels, out_channels), norm_cfg,
                                padding_mode)
        self.conv2 = conv_stack((out_channels, out_channels), norm_cfg,
                                padding_mode)

    def forward(self, x: Tensor) -> Tensor:
        y = self.conv1(self.down(x))
        return y + self.conv2(y)


class UNetUpBlock(BaseModule):
    """Transposed 4x4 convolution (x2), concatenation with the skip, and a
    residual pair of 3x3 layers.

    The skip goes through a 1x1 convolution -> BN -> ReLU first; the
    up-sampling is followed by BN and ReLU (as in U-TAE).
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 skip_channels: int,
                 norm_cfg: dict,
                 padding_mode: str = 'reflect') -> None:
        super().__init__()
        self.skip_conv = conv_norm_act(skip_channels, skip_channels, 1,
                                       dict(type='BN'))
        self.up = nn.Sequential(
            nn.ConvTranspose2d(
                in_channels, out_channels, 4, stride=2, padding=1),
            build_norm_layer(dict(type='BN'), out_channels)[1],
            nn.ReLU(inplace=True))
        self.conv1 = conv_stack((out_channels + skip_channels, out_channels),
                                norm_cfg, padding_mode)
        self.conv2 = conv_stack((out_channels, out_channels), norm_cfg,
                                padding_mode)

    def forward(self, x: Tensor, skip: Tensor) -> Tensor:
        y = torch.cat([self.up(x), self.skip_conv(skip)], dim=1)
        y = self.conv1(y)
        return y + self.conv2(y)


class TemporalUNet(BaseModule):
    """Base of U-Net backbones with a temporal bottleneck (U-TAE family).

    Subclasses implement :meth:`collapse`, which turns the per-frame
    encoder maps into one bottom map and one map per skip connection.

    Inputs are packed SITS (B, T, C + 1, H, W) (last channel: day of year,
    0 = padded frame); H and W must be multiples of ``2 ** (levels - 1)``.
    The encoder only computes the valid frames. Outputs are the decoder
    maps of ``out_indices``, finest first: index l has
    ``decoder_widths[l]`` channels at 1 / 2^l of the input size.

    Args:
        in_channels (int): Spectral bands C.
        encoder_widths (Sequence[int]): Widths per level, finest first.
        decoder_widths (Sequence[int]): Same for the decoder; the last must
            equal the last encoder width.
        encoder_norm_cfg (dict): Norm of the encoder.
        decoder_norm_cfg (dict): Norm of the decoder's 3x3 layers.
        padding_mode (str): Padding of the 3x3 / 4x4 convolutions.
        out_indices (Sequence[int]): Decoder levels to return.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 in_channels: int,
                 encoder_widths: Sequence[int],
                 decoder_widths: Sequence[int],
                 encoder_norm_cfg: dict,
                 decoder_norm_cfg: dict,
                 padding_mode: str = 'reflect',
                 out_indices: Sequence[int] = (0, ),
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if len(encoder_widths) != len(decoder_widths) or \
                encoder_widths[-1] != decoder_widths[-1]:
            raise ValueError(
                'encoder_widths and decoder_widths need the same length and '
                f'the same last width, got {tuple(encoder_widths)} and '
                f'{tuple(decoder_widths)}')
        levels = len(encoder_widths)
        if any(not 0 <= i < levels for i in out_indices):
            raise ValueError(f'out_indices {tuple(out_indices)} must lie in '
                             f'0..{levels - 1}')
        self.in_channels = in_channels
        self.encoder_widths = tuple(encoder_widths)
        self.decoder_widths = tuple(decoder_widths)
        self.out_indices = tuple(out_indices)
        self.in_conv = conv_stack(
            (in_channels, encoder_widths[0], encoder_widths[0]),
            encoder_norm_cfg, padding_mode)
        self.down_blocks = nn.ModuleList(
            UNetDownBlock(encoder_widths[i], encoder_widths[i + 1],
                          encoder_norm_cfg, padding_mode)
            for i in range(levels - 1))
        # up_blocks[l] maps decoder level l + 1 to level l
        self.up_blocks = nn.ModuleList(
            UNetUpBlock(decoder_widths[i + 1], decoder_widths[i],
                        encoder_widths[i], decoder_norm_cfg, padding_mode)
            for i in range(levels - 1))

    def encode(self, inputs: Tensor) -> Tuple[List[Tensor], Tensor, Tensor]:
        """Per-frame encoder maps (finest first), dates and valid mask."""
        name = type(self).__name__
        bands, doy, valid = split_sits_inputs(inputs, self.in_channels, name)
        factor = 2**(len(self.encoder_widths) - 1)
        h, w = bands.shape[-2:]
        if h % factor or w % factor:
            raise ValueError(f'{name} needs H and W divisible by {factor}, '
                             f'got {(h, w)}')
        feats = [frame_wise(self.in_conv, bands, valid)]
        for block in self.down_blocks:
            feats.append(frame_wise(block, feats[-1], valid))
        return feats, doy, valid

    def collapse(self, feats: List[Tensor], doy: Tensor,
                 valid: Tensor) -> Tuple[Tensor, List[Tensor]]:
        """Bottom map (B, C_L, h, w) and skip maps (finest first)."""
        raise NotImplementedError

    def decode(self, bottom: Tensor, skips: List[Tensor]) -> List[Tensor]:
        """Decoder maps, finest first (the last one is ``bottom``)."""
        maps = [bottom]
        for level in range(len(skips) - 1, -1, -1):
            maps.insert(0, self.up_blocks[level](maps[0], skips[level]))
        return maps

    def forward(self, inputs: Tensor) -> Tuple[Tensor, ...]:
        """Feature maps of ``out_indices``.

        Args:
            inputs (Tensor): Packed SITS (B, T, C + 1, H, W).

        Returns:
            tuple[Tensor]: (B, decoder_widths[l], H / 2^l, W / 2^l) per
            index l of ``out_indices``.
        """
        feats, doy, valid = self.encode(inputs)
        bottom, skips = self.collapse(feats, doy, valid)
        maps = self.decode(bottom, skips)
        return tuple(maps[i] for i in self.out_indices)
