# Copyright (c) mmexact contributors. All rights reserved.
from typing import Optional

import torch
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmseg.registry import MODELS
from ..utils.conv_gru import ConvGRU
from ..utils.temporal_utils import frame_wise, split_sits_inputs

__all__ = ['BiConvGRU']


@MODELS.register_module()
class BiConvGRU(BaseModule):
    """Bidirectional convolutional GRU sequence encoder.

    `Multi-Temporal Land Cover Classification with Sequential Recurrent
    Encoders <https://doi.org/10.3390/ijgi7040129>`_ (Rußwurm & Körner,
    ISPRS IJGI 2018), the "BiCGRU" baseline of the TSViT paper: every frame
    is embedded by a 3x3 convolution (no activation), one
    :class:`ConvGRU` reads the frames forwards and another one backwards,
    and their final hidden states are concatenated into a (B,
    2 * hidden_channels, H, W) map (the paper's 3x3 classification
    convolution belongs to the decode head). Defaults: embedding 64,
    hidden 256, 3x3 kernels.

    Padded frames (day of year 0) are not embedded and leave both
    recurrent states unchanged.

    Args:
        in_channels (int): Spectral bands C. Defaults to 10.
        embed_channels (int): Frame embedding width. Defaults to 64.
        hidden_channels (int): Width of each GRU. Defaults to 256.
        kernel_size (int): GRU kernel. Defaults to 3.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 in_channels: int = 10,
                 embed_channels: int = 64,
                 hidden_channels: int = 256,
                 kernel_size: int = 3,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.in_channels = in_channels
        self.out_channels = 2 * hidden_channels
        self.embed = nn.Conv2d(in_channels, embed_channels, 3, padding=1)
        self.forward_gru = ConvGRU(embed_channels, hidden_channels,
                                   kernel_size)
        self.backward_gru = ConvGRU(
            embed_channels, hidden_channels, kernel_size, reverse=True)

    def forward(self, inputs: Tensor) -> tuple:
        """Encode a packed SITS batch.

        Args:
            inputs (Tensor): Packed SITS (B, T, C + 1, H, W).

        Returns:
            tuple[Tensor]: one (B, 2 * hidden_channels, H, W) map.
        """
        x, _, valid = split_sits_inputs(inputs, self.in_channels,
                                        'BiConvGRU')
        feats = frame_wise(self.embed, x, valid)
        return (torch.cat([self.forward_gru(feats, valid),
                           self.backward_gru(feats, valid)], dim=1), )
