# Copyright (c) mmexact contributors. All rights reserved.
"""Line chart of one pixel's time series, rendered off-screen."""
from typing import Optional, Sequence, Tuple

import numpy as np

__all__ = ['temporal_profile']

# Line colours of the plotted bands, in order (matplotlib's tab10 cycle).
_COLORS = ('#1f77b4', '#2ca02c', '#d62728', '#9467bd', '#ff7f0e', '#8c564b',
           '#e377c2', '#7f7f7f', '#bcbd22', '#17becf')


def temporal_profile(inputs: np.ndarray,
                     pixel: Tuple[int, int],
                     bands: Sequence[int] = (0, 1, 2, 6),
                     band_names: Optional[Sequence[str]] = None,
                     size: Tuple[int, int] = (192, 384),
                     mark_frames: Sequence[int] = ()) -> np.ndarray:
    """Draw the values of ``bands`` at ``pixel`` against the day of year.

    Padded frames (day of year 0) are left out. Rendered with matplotlib's
    object API on an Agg canvas, so it needs no display and does not touch
    pyplot's global state.

    Args:
        inputs (np.ndarray): Packed sample (T, C + 1, H, W); the last channel
            is the day of year (0 = padded frame).
        pixel (tuple[int, int]): (row, column) of the pixel.
        bands (Sequence[int]): Band indices to plot. The default (0, 1, 2, 6)
            is B2, B3, B4, B8 in PASTIS order.
        band_names (Sequence[str], optional): Name of every band of
            ``inputs`` (legend); ``'band i'`` without.
        size (tuple[int, int]): Output (height, width) in pixels.
        mark_frames (Sequence[int]): Frames to mark with a vertical line
            (e.g. the dates shown as RGB).

    Returns:
        np.ndarray: uint8 RGB image of shape ``size + (3, )``.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    t, c1, h, w = inputs.shape
    row, col = (int(v) for v in pixel)
    if not (0 <= row < h and 0 <= col < w):
        raise ValueError(f'profile pixel {(row, col)} lies outside the '
                         f'{h} x {w} window')
    bad = [b for b in bands if not 0 <= b < c1 - 1]
    if bad:
        raise ValueError(f'profile bands {bad} do not exist: the sample has '
                         f'{c1 - 1} bands')
    doy = inputs[:, -1, row, col]
    valid = np.flatnonzero(doy > 0)
    dpi = 100
    fig = Figure(figsize=(size[1] / dpi, size[0] / dpi), dpi=dpi)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_axes((0.14, 0.2, 0.84, 0.72))
    for i, b in enumerate(bands):
        name = band_names[b] if band_names is not None else f'band {b}'
        ax.plot(doy[valid], inputs[valid, b, row, col], marker='.',
                markersize=3, linewidth=1, color=_COLORS[i % len(_COLORS)],
                label=name)
    for f in mark_frames:
        if doy[f] > 0:
            ax.axvline(float(doy[f]), color='k', linestyle='--',
                       linewidth=0.8)
    ax.set_xlabel('day of year', fontsize=7)
    ax.set_title(f'pixel ({row}, {col})', fontsize=7)
    ax.tick_params(labelsize=6)
    ax.legend(fontsize=6, loc='upper left', frameon=False)
    canvas.draw()
    img = np.asarray(canvas.buffer_rgba())[..., :3]
    return np.ascontiguousarray(img[:size[0], :size[1]])
