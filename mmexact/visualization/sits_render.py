# Copyright (c) mmexact contributors. All rights reserved.
"""Render SITS samples, label maps and score maps as RGB images."""
from typing import Optional, Sequence

import numpy as np

__all__ = ['rgb_composite', 'colorize_labels', 'overlay', 'heatmap',
           'hstack_panels', 'pick_frame']


def pick_frame(inputs: np.ndarray,
               frame: Optional[int] = None,
               bands: Sequence[int] = (2, 1, 0)) -> int:
    """Index of the frame to show: ``frame``, or the clearest valid frame.

    Without ``frame``, the valid (day of year > 0) frame closest to the
    per-pixel temporal median of the RGB is chosen: clouds, shadows and
    no-data are rare at any pixel, so the median image is clear and the
    frame nearest to it is a clear one.

    Args:
        inputs (np.ndarray): Packed sample (T, C + 1, H, W); the last channel
            is the day of year (0 = padded frame).
        frame (int, optional): Explicit frame index.
        bands (Sequence[int]): The RGB bands.
    """
    if frame is not None:
        return int(frame)
    valid = np.flatnonzero(inputs[:, -1, 0, 0] > 0)
    if not valid.size:
        return 0
    rgb = inputs[valid][:, list(bands)].reshape(len(valid), -1)
    med = np.median(rgb, axis=0, keepdims=True)
    distance = np.nan_to_num(np.abs(rgb - med).mean(axis=1), nan=np.inf)
    return int(valid[int(np.argmin(distance))])


def rgb_composite(inputs: np.ndarray,
                  frame: Optional[int] = None,
                  bands: Sequence[int] = (2, 1, 0),
                  percentiles=(2, 98)) -> np.ndarray:
    """RGB (H, W, 3) uint8 of one frame with a per-channel percentile stretch.

    Args:
        inputs (np.ndarray): Packed sample (T, C + 1, H, W).
        frame (int, optional): Frame index (default: middle valid frame).
        bands (Sequence[int]): Band indices for R, G, B. PASTIS order
            (B2, B3, B4, ...) gives true colour with (2, 1, 0).
        percentiles (tuple[float, float]): Stretch limits.
    """
    img = inputs[pick_frame(inputs, frame, bands)][list(bands)].astype(
        np.float64)
    out = np.zeros(img.shape[1:] + (3, ), np.uint8)
    for c in range(3):
        band = img[c]
        finite = band[np.isfinite(band)]
        if finite.size == 0:
            continue
        lo, hi = np.percentile(finite, percentiles)
        scaled = (np.nan_to_num(band, nan=lo) - lo) / max(hi - lo, 1e-6)
        out[..., c] = (np.clip(scaled, 0, 1) * 255).astype(np.uint8)
    return out


def colorize_labels(labels: np.ndarray, palette: Sequence[Sequence[int]],
                    ignore_color=(255, 255, 255)) -> np.ndarray:
    """(H, W) label map -> (H, W, 3) uint8; ids outside the palette white."""
    lut = np.tile(np.asarray(ignore_color, np.uint8), (256, 1))
    lut[:len(palette)] = np.asarray(palette, np.uint8)
    return lut[np.clip(labels, 0, 255).astype(np.int64)]


def overlay(rgb: np.ndarray, color: np.ndarray,
            alpha: float = 0.6) -> np.ndarray:
    """Alpha-blend a colour map over an RGB image."""
    return (rgb * (1 - alpha) + color * alpha).astype(np.uint8)


def heatmap(scores: np.ndarray) -> np.ndarray:
    """[0, 1] score map (H, W) -> (H, W, 3) uint8 (black-red-yellow-white)."""
    s = np.clip(np.nan_to_num(scores), 0, 1)
    rgb = np.stack([np.clip(3 * s, 0, 1), np.clip(3 * s - 1, 0, 1),
                    np.clip(3 * s - 2, 0, 1)], axis=-1)
    return (rgb * 255).astype(np.uint8)


def hstack_panels(panels: Sequence[np.ndarray], scale: int = 8,
                  gap: int = 4) -> np.ndarray:
    """Upscale (nearest) each (H, W, 3) panel and put them side by side."""
    big = [np.kron(p, np.ones((scale, scale, 1), np.uint8)) for p in panels]
    h = max(p.shape[0] for p in big)
    sep = np.full((h, gap, 3), 255, np.uint8)
    row = []
    for i, p in enumerate(big):
        if i:
            row.append(sep)
        pad = np.full((h - p.shape[0], p.shape[1], 3), 255, np.uint8)
        row.append(np.concatenate([p, pad]) if pad.size else p)
    return np.concatenate(row, axis=1)
