# Copyright (c) mmexact contributors. All rights reserved.
"""One-image summary of a window's CAMs (used by tools/visualize_cams.py)."""
from typing import Optional, Sequence

import numpy as np

from ..datasets.pastis_meta import PASTIS_PALETTE
from ..visualization import colorize_labels, heatmap, hstack_panels, \
    rgb_composite

__all__ = ['render_cam_window']


def _with_strip(panel: np.ndarray, color: Sequence[int],
                rows: int) -> np.ndarray:
    """Put a ``rows``-high bar of ``color`` on top of an (H, W, 3) panel."""
    strip = np.empty((rows, panel.shape[1], 3), np.uint8)
    strip[:] = np.asarray(color, np.uint8)
    return np.concatenate([strip, panel])


def render_cam_window(inputs: np.ndarray,
                      cams: np.ndarray,
                      classes: Sequence[int],
                      pseudo_label: np.ndarray,
                      gt: Optional[np.ndarray] = None,
                      frame: Optional[int] = None,
                      palette: Sequence[Sequence[int]] = PASTIS_PALETTE,
                      scale: int = 8,
                      strip_rows: int = 2) -> np.ndarray:
    """Side-by-side panels: RGB | CAM of each class | pseudo label | GT.

    Every panel has a bar on top: the class colour of the palette above a
    CAM heatmap (class ``c`` uses colour ``c + 1``), white elsewhere.

    Args:
        inputs (np.ndarray): Packed window (T, C + 1, H, W).
        cams (np.ndarray): CAMs at label size (K, H, W) in [0, 1].
        classes (Sequence[int]): 0-based indices of the classes to show.
        pseudo_label (np.ndarray): (H, W) labels ``0..K``.
        gt (np.ndarray, optional): (H, W) ground truth (255 = ignore,
            drawn white).
        frame (int, optional): Date shown as RGB (default: middle valid
            frame).
        palette (Sequence[Sequence[int]]): Colour of each label.
        scale (int): Nearest-neighbour upscaling. Defaults to 8.
        strip_rows (int): Height of the bar (before scaling). Defaults to 2.

    Returns:
        np.ndarray: uint8 RGB image ``((H + strip_rows) * scale,
        n * W * scale + (n - 1) * 4, 3)`` for n panels.
    """
    white = (255, 255, 255)
    h, w = pseudo_label.shape
    panels = [_with_strip(rgb_composite(inputs, frame)[:h, :w], white,
                          strip_rows)]
    for c in classes:
        panels.append(
            _with_strip(heatmap(cams[c]), palette[c + 1], strip_rows))
    panels.append(
        _with_strip(colorize_labels(pseudo_label, palette), white,
                    strip_rows))
    if gt is not None:
        panels.append(
            _with_strip(colorize_labels(gt, palette), white, strip_rows))
    return hstack_panels(panels, scale)
