# Copyright (c) mmexact contributors. All rights reserved.
from typing import Optional

import torch
from mmengine.model import BaseModule
from torch import Tensor, nn

__all__ = ['ConvGRU']


class ConvGRU(BaseModule):
    """Convolutional GRU over a sequence of feature maps.

    The GRU of Cho et al. (2014) with convolutions (Ballas et al., ICLR
    2016): one convolution of ``[x_t, h_{t-1}]`` gives the reset and update
    gates r, z; a second one of ``[x_t, r * h_{t-1}]`` the candidate n;
    ``h_t = (1 - z) * h_{t-1} + z * tanh(n)``.

    Padded frames (``valid`` False) leave the state unchanged. With
    ``reverse=True`` the sequence is read from its last frame to its first.

    Args:
        in_channels (int): Input width.
        hidden_channels (int): State width.
        kernel_size (int): Convolution kernel. Defaults to 3.
        bias (bool): Convolution biases. Defaults to True.
        reverse (bool): Process the sequence backwards. Defaults to False.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 in_channels: int,
                 hidden_channels: int,
                 kernel_size: int = 3,
                 bias: bool = True,
                 reverse: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.in_channels = in_channels
        self.hidden_channels = hidden_channels
        self.reverse = reverse
        pad = kernel_size // 2
        self.gates = nn.Conv2d(in_channels + hidden_channels,
                               2 * hidden_channels, kernel_size,
                               padding=pad, bias=bias)
        self.candidate = nn.Conv2d(in_channels + hidden_channels,
                                   hidden_channels, kernel_size,
                                   padding=pad, bias=bias)

    def step(self, x: Tensor, h: Tensor) -> Tensor:
        """One time step: (B, C, H, W) input -> new hidden state."""
        r, z = torch.sigmoid(self.gates(torch.cat([x, h], dim=1))).chunk(
            2, dim=1)
        n = torch.tanh(self.candidate(torch.cat([x, r * h], dim=1)))
        return (1 - z) * h + z * n

    def forward(self, x: Tensor, valid: Optional[Tensor] = None) -> Tensor:
        """Run over the sequence.

        Args:
            x (Tensor): Sequence (B, T, C, H, W).
            valid (Tensor, optional): Valid-frame mask (B, T) bool.

        Returns:
            Tensor: final hidden state (B, hidden, H, W).
        """
        b, t, _, hh, ww = x.shape
        h = x.new_zeros(b, self.hidden_channels, hh, ww)
        steps = range(t - 1, -1, -1) if self.reverse else range(t)
        for s in steps:
            h_new = self.step(x[:, s], h)
            if valid is None or bool(valid[:, s].all()):
                h = h_new
            else:
                h = torch.where(valid[:, s, None, None, None], h_new, h)
        return h
