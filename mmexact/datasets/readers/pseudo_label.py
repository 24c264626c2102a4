# Copyright (c) mmexact contributors. All rights reserved.
"""Reader for pseudo-label PNG maps (stage 2 of Exact)."""
from typing import Tuple

import numpy as np
from PIL import Image

from ...structures import SITSDataError

__all__ = ['read_pseudo_label']


def read_pseudo_label(path: str, shape: Tuple[int, int],
                      num_classes: int) -> np.ndarray:
    """Read an 8-bit grayscale label PNG and check size and values.

    Args:
        path (str): PNG file.
        shape (tuple[int, int]): Expected (H, W).
        num_classes (int): Valid values are ``0..num_classes-1`` and 255.

    Returns:
        np.ndarray: uint8 label map (H, W).
    """
    try:
        with Image.open(path) as im:
            label = np.array(im)
    except FileNotFoundError as exc:
        raise SITSDataError(f'{path}: pseudo-label file not found') from exc
    except OSError as exc:
        raise SITSDataError(f'{path}: cannot read PNG ({exc})') from exc
    if label.ndim != 2 or label.shape != tuple(shape):
        raise SITSDataError(f'{path}: pseudo label has shape {label.shape}, '
                            f'expected {tuple(shape)}')
    valid = (label < num_classes) | (label == 255)
    if not valid.all():
        raise SITSDataError(
            f'{path}: pseudo-label values must lie in 0..{num_classes - 1} '
            f'(or 255), found {sorted(set(label[~valid].tolist()))[:5]}')
    return label.astype(np.uint8)
