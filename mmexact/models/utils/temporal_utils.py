# Copyright (c) mmexact contributors. All rights reserved.
"""Helpers shared by the SITS backbones that read packed inputs.

Packed SITS batches are (B, T, C + 1, H, W) tensors whose last channel is
the integer day of year of each frame (1..366) and 0 for a padded frame
(``AppendDayOfYear``, ``PadOrCutSequence``, ``SITSDataPreProcessor``).
"""
import math
from typing import Callable, Tuple

import torch
from torch import Tensor

__all__ = [
    'split_sits_inputs', 'frame_wise', 'masked_temporal_mean',
    'date_positional_encoding'
]


def split_sits_inputs(inputs: Tensor, in_channels: int,
                      owner: str) -> Tuple[Tensor, Tensor, Tensor]:
    """Split a packed batch into bands, day of year and valid-frame mask.

    Args:
        inputs (Tensor): Packed SITS (B, T, C + 1, H, W).
        in_channels (int): Spectral bands C expected by the caller.
        owner (str): Name used in error messages (the backbone).

    Returns:
        tuple: bands (B, T, C, H, W) with padded frames set to 0, day of
        year (B, T) float and the valid-frame mask (B, T) bool.
    """
    if inputs.dim() != 5:
        raise ValueError(f'{owner} expects inputs (B, T, C + 1, H, W), got '
                         f'shape {tuple(inputs.shape)}')
    if inputs.shape[2] != in_channels + 1:
        raise ValueError(
            f'{owner} expects {in_channels} bands + 1 day-of-year channel, '
            f'got {inputs.shape[2]} channels')
    doy = inputs[:, :, -1, 0, 0]
    valid = doy > 0
    empty = (~valid.any(dim=1)).nonzero().flatten().tolist()
    if empty:
        raise ValueError(f'{owner}: sample(s) {empty} of the batch have no '
                         'valid frame (day of year 0 everywhere)')
    bands = inputs[:, :, :-1] * valid[:, :, None, None, None]
    return bands, doy, valid


def frame_wise(fn: Callable[[Tensor], Tensor], x: Tensor,
               valid: Tensor) -> Tensor:
    """Apply a 2-D module to the valid frames of a sequence only.

    Padded frames are not computed (so they do not enter batch statistics
    either) and come out as zeros.

    Args:
        fn (callable): Maps (N, C, H, W) to (N, C', H', W').
        x (Tensor): Sequence (B, T, C, H, W).
        valid (Tensor): Valid-frame mask (B, T) bool.

    Returns:
        Tensor: (B, T, C', H', W').
    """
    b, t = x.shape[:2]
    flat_valid = valid.reshape(-1)
    y = fn(x.reshape(b * t, *x.shape[2:])[flat_valid])
    if bool(flat_valid.all()):
        return y.reshape(b, t, *y.shape[1:])
    out = y.new_zeros((b * t, ) + tuple(y.shape[1:]))
    out[flat_valid] = y
    return out.view(b, t, *y.shape[1:])


def masked_temporal_mean(x: Tensor, valid: Tensor, dim: int = 1) -> Tensor:
    """Mean over the valid frames of ``x`` along the time axis ``dim``.

    Args:
        x (Tensor): Features with time at ``dim`` (e.g. (B, T, C, H, W)).
        valid (Tensor): Valid-frame mask (B, T) bool.
        dim (int): Time axis of ``x``. Defaults to 1.

    Returns:
        Tensor: ``x`` reduced over ``dim``.
    """
    shape = [1] * x.dim()
    shape[0], shape[dim] = valid.shape
    w = valid.to(x.dtype).view(shape)
    return (x * w).sum(dim=dim) / w.sum(dim=dim).clamp(min=1)


def date_positional_encoding(doy: Tensor, dims: int,
                             period: float = 1000.) -> Tensor:
    """Sinusoidal encoding of acquisition dates (Vaswani et al. 2017).

    Channel ``2i`` is ``sin(d / period^(2i / dims))`` and channel ``2i + 1``
    the cosine of the same angle, ``d`` the day of year.

    Args:
        doy (Tensor): Dates (B, T).
        dims (int): Encoding width (even).
        period (float): Largest period. Defaults to 1000 (L-TAE).

    Returns:
        Tensor: (B, T, dims) float.
    """
    if dims % 2:
        raise ValueError(f'date encoding width must be even, got {dims}')
    i = torch.arange(dims // 2, device=doy.device, dtype=torch.float32)
    freq = torch.exp(-math.log(period) * 2 * i / dims)
    angle = doy.float()[..., None] * freq
    return torch.stack([angle.sin(), angle.cos()], dim=-1).flatten(-2)
