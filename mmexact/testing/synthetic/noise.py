# Copyright (c) mmexact contributors. All rights reserved.
"""Cheap, seedable smooth random fields (bilinear value noise)."""
from typing import Sequence

import numpy as np

__all__ = ['smooth_field', 'sigmoid']


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Numerically safe logistic function."""
    return 0.5 * (1. + np.tanh(0.5 * np.asarray(x)))


def _upsample(coarse: np.ndarray, height: int, width: int) -> np.ndarray:
    """Bilinear upsampling of (N, gh, gw) grids to (N, height, width)."""
    _, gh, gw = coarse.shape
    ys = np.linspace(0, gh - 1, height, dtype=np.float32)
    xs = np.linspace(0, gw - 1, width, dtype=np.float32)
    y0 = np.minimum(ys.astype(np.int64), gh - 2)
    x0 = np.minimum(xs.astype(np.int64), gw - 2)
    wy = (ys - y0)[None, :, None]
    wx = (xs - x0)[None, None, :]
    top = coarse[:, y0]
    bot = coarse[:, y0 + 1]
    row0 = top[:, :, x0] * (1 - wx) + top[:, :, x0 + 1] * wx
    row1 = bot[:, :, x0] * (1 - wx) + bot[:, :, x0 + 1] * wx
    return row0 * (1 - wy) + row1 * wy


def smooth_field(rng: np.random.Generator,
                 count: int,
                 height: int,
                 width: int,
                 scales: Sequence[float] = (32., 8.),
                 weights: Sequence[float] = (1., 0.5)) -> np.ndarray:
    """Draw ``count`` smooth Gaussian-like fields of unit variance.

    Each octave is a grid of independent normals, one node every
    ``scale`` pixels, bilinearly interpolated; octaves are summed with
    ``weights`` and the sum is standardised per field.

    Args:
        rng (np.random.Generator): Random stream.
        count (int): Number of fields.
        height (int): Field height.
        width (int): Field width.
        scales (Sequence[float]): Node spacing of each octave (pixels).
        weights (Sequence[float]): Amplitude of each octave.

    Returns:
        np.ndarray: float32 (count, height, width), zero mean, unit std.
    """
    out = np.zeros((count, height, width), np.float32)
    for scale, weight in zip(scales, weights):
        gh = max(2, int(np.ceil(height / scale)) + 1)
        gw = max(2, int(np.ceil(width / scale)) + 1)
        coarse = rng.standard_normal((count, gh, gw), dtype=np.float32)
        out += weight * _upsample(coarse, height, width)
    out -= out.mean(axis=(1, 2), keepdims=True)
    out /= out.std(axis=(1, 2), keepdims=True) + 1e-6
    return out
