# Copyright (c) mmexact contributors. All rights reserved.
"""Reader for the ``.npz`` windows of a region prepared by
``tools/dataset_converters/scene_to_windows.py``."""
import zipfile
from typing import Dict

import numpy as np

from ...structures import SITSDataError
from .registry import SITS_READERS
from .validate import validate_sits_sample

__all__ = ['read_sits_window', 'load_sits_window_sample']


def read_sits_window(path: str, num_classes: int) -> Dict[str, np.ndarray]:
    """Read one ``windows/<sample_id>.npz`` (no pickles: NumPy arrays only).

    Args:
        path (str): The file.
        num_classes (int): Classes including background (K + 1): labels
            must lie in 0..K or be 255, ``image_labels`` must have K
            entries.

    Returns:
        dict: ``img`` int16 (T, C, h, w), ``doy`` int64 (T,), ``labels``
        uint8 (h, w) (255: no truth) and, where the window has them,
        ``image_labels`` uint8 (K,).
    """
    try:
        with np.load(path, allow_pickle=False) as f:
            data = {k: f[k] for k in f.files}
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise SITSDataError(f'{path}: cannot read the window ({exc})') \
            from None
    missing = [k for k in ('img', 'doy', 'labels') if k not in data]
    if missing:
        raise SITSDataError(f'{path}: missing array(s) {missing}')
    labels = data['labels'].astype(np.uint8)
    validate_sits_sample(data['img'], data['doy'], labels, path,
                         max_label=num_classes - 1, ignore_index=255)
    out = dict(img=data['img'], doy=data['doy'].astype(np.int64),
               labels=labels)
    if 'image_labels' in data:
        image = data['image_labels']
        if image.shape != (num_classes - 1, ) or image.max(initial=0) > 1:
            raise SITSDataError(
                f'{path}: image_labels must be a 0/1 vector of '
                f'{num_classes - 1} crops, got shape {image.shape}')
        out['image_labels'] = image.astype(np.uint8)
    return out


@SITS_READERS.register_module(name='sits_window')
def load_sits_window_sample(info: dict) -> Dict[str, np.ndarray]:
    """Reader ``'sits_window'``: the window at ``info['img_path']``; needs
    ``info['num_classes']`` (set by :class:`SITSRegionDataset`)."""
    return read_sits_window(info['img_path'], info['num_classes'])
