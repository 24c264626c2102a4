# Copyright (c) mmexact contributors. All rights reserved.
"""Reader for PASTIS24 window pickles (TSViT / Exact layout)."""
from typing import Dict

import numpy as np

from mmexact.utils.safe_pickle import safe_pickle_load
from ...structures import SITSDataError
from .registry import SITS_READERS
from .validate import validate_sits_sample

__all__ = ['read_pastis24_window', 'load_pastis24_sample']


def read_pastis24_window(path: str) -> Dict[str, np.ndarray]:
    """Read one ``pickle24x24/<patch>_<j>.pickle`` window.

    The pickle is a dict with ``img`` int16 (T, 10, H, W), ``doy`` (T,) and
    ``labels`` (H, W) or (3, H, W) (channel 0 is semantic). It is loaded
    with a restricted unpickler (NumPy arrays only).

    Args:
        path (str): Pickle file.

    Returns:
        dict: ``img`` (T, C, H, W) as stored, ``doy`` int64 (T,), ``labels``
        uint8 (H, W) with raw PASTIS values (void = 19).
    """
    sample = safe_pickle_load(path)
    if not isinstance(sample, dict):
        raise SITSDataError(f'{path}: expected a dict, got '
                            f'{type(sample).__name__}')
    missing = [k for k in ('img', 'doy', 'labels') if k not in sample]
    if missing:
        raise SITSDataError(f'{path}: missing key(s) {missing}; a PASTIS24 '
                            'window needs "img", "doy" and "labels"')
    img, doy, labels = sample['img'], sample['doy'], sample['labels']
    labels = np.asarray(labels)
    if labels.ndim == 3:  # official TSViT release: (3, H, W)
        labels = labels[0]
    if labels.ndim != 2:
        raise SITSDataError(f'{path}: "labels" must be (H, W) or (3, H, W), '
                            f'got {labels.shape}')
    validate_sits_sample(img, doy, labels, path)
    return dict(
        img=img,
        doy=np.asarray(doy).astype(np.int64),
        labels=labels.astype(np.uint8))


@SITS_READERS.register_module(name='pastis24')
def load_pastis24_sample(info: dict) -> Dict[str, np.ndarray]:
    """Reader ``'pastis24'``: the window pickle at ``info['img_path']``."""
    return read_pastis24_window(info['img_path'])
