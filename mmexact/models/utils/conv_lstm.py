# Copyright (c) mmexact contributors. All rights reserved.
from typing import Optional, Tuple

import torch
from mmengine.model import BaseModule
from torch import Tensor, nn

__all__ = ['ConvLSTM']


class ConvLSTM(BaseModule):
    """Convolutional LSTM over a sequence of feature maps.

    `Convolutional LSTM Network: A Machine Learning Approach for
    Precipitation Nowcasting <https://arxiv.org/abs/1506.04214>`_ (Shi et
    al., NeurIPS 2015), without peephole connections: one convolution of
    ``[x_t, h_{t-1}]`` gives the input, forget, output and candidate gates,
    ``c_t = f * c_{t-1} + i * tanh(g)`` and ``h_t = o * tanh(c_t)``.

    Padded frames (``valid`` False) leave the state unchanged, so the final
    state does not depend on the amount of padding. With ``reverse=True``
    the sequence is read from its last frame to its first.

    Args:
        in_channels (int): Input width.
        hidden_channels (int): State width.
        kernel_size (int): Gate convolution kernel. Defaults to 3.
        bias (bool): Bias of the gate convolution. Defaults to True.
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
        self.gates = nn.Conv2d(
            in_channels + hidden_channels,
            4 * hidden_channels,
            kernel_size,
            padding=kernel_size // 2,
            bias=bias)

    def step(self, x: Tensor, h: Tensor, c: Tensor) -> Tuple[Tensor, Tensor]:
        """One time step: (B, C, H, W) input -> new (h, c)."""
        i, f, o, g = self.gates(torch.cat([x, h], dim=1)).chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        return h, c

    def forward(self, x: Tensor,
                valid: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
        """Run over the sequence.

        Args:
            x (Tensor): Sequence (B, T, C, H, W).
            valid (Tensor, optional): Valid-frame mask (B, T) bool.

        Returns:
            tuple: final hidden state h and cell state c, (B, hidden, H, W).
        """
        b, t, _, hh, ww = x.shape
        h = x.new_zeros(b, self.hidden_channels, hh, ww)
        c = torch.zeros_like(h)
        steps = range(t - 1, -1, -1) if self.reverse else range(t)
        for s in steps:
            h_new, c_new = self.step(x[:, s], h, c)
            if valid is None or bool(valid[:, s].all()):
                h, c = h_new, c_new
            else:
                keep = valid[:, s, None, None, None]
                h = torch.where(keep, h_new, h)
                c = torch.where(keep, c_new, c)
        return h, c
