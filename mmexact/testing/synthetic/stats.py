# Copyright (c) mmexact contributors. All rights reserved.
"""Class statistics of a PASTIS-layout dataset (to check the skew)."""
import json
import os.path as osp
from typing import Dict, Iterable, Optional, Sequence

import numpy as np

__all__ = ['window_label_statistics', 'dataset_label_statistics']

NUM_LABELS = 20  # 0 background, 1..18 crops, 19 void


def window_label_statistics(targets: Iterable[np.ndarray],
                            window: int = 24,
                            min_fraction: float = 0.01) -> Dict[str, object]:
    """Pixel and image-level label frequencies over PASTIS24 windows.

    Image-level labels follow Exact's rule: crop class c (1..18) is
    present in a window iff it covers more than ``min_fraction`` of it
    (void counts as background).

    Args:
        targets (Iterable[np.ndarray]): Semantic maps (H, W) or TARGET
            arrays (3, H, W) (channel 0 is used).
        window (int): Window side; non-overlapping row-major windows,
            the remainder dropped (the PASTIS24 grid).
        min_fraction (float): Presence threshold. Defaults to 0.01.

    Returns:
        dict: ``pixel_counts`` (20,) and ``pixel_freq`` over the windows
        (labels 0..19); ``image_label_counts`` (18,) and
        ``image_label_freq`` (fraction of windows where class c = index
        + 1 is present); ``num_windows``; ``labels_per_window`` (histogram
        of the number of present crop classes, index = count);
        ``classes_per_window`` (histogram of the number of distinct
        semantic values 0..19).
    """
    pixels = np.zeros(NUM_LABELS, np.int64)
    present = np.zeros(18, np.int64)
    per_window = np.zeros(19, np.int64)
    distinct = np.zeros(NUM_LABELS + 1, np.int64)
    count = 0
    for target in targets:
        sem = np.asarray(target)
        sem = sem[0] if sem.ndim == 3 else sem
        h, w = sem.shape
        nh, nw = h // window, w // window
        if nh == 0 or nw == 0:
            continue
        win = sem[:nh * window, :nw * window].reshape(
            nh, window, nw, window).transpose(0, 2, 1, 3).reshape(
                nh * nw, window * window).astype(np.int64)
        hist = np.zeros((win.shape[0], NUM_LABELS), np.int64)
        np.add.at(hist, (np.arange(win.shape[0])[:, None], win), 1)
        pixels += hist.sum(0)
        hit = hist[:, 1:19] > min_fraction * window * window
        present += hit.sum(0)
        per_window += np.bincount(hit.sum(1), minlength=19)
        distinct += np.bincount((hist > 0).sum(1),
                                minlength=NUM_LABELS + 1)
        count += win.shape[0]
    return dict(
        pixel_counts=pixels,
        pixel_freq=pixels / max(pixels.sum(), 1),
        image_label_counts=present,
        image_label_freq=present / max(count, 1),
        num_windows=count,
        labels_per_window=per_window,
        classes_per_window=distinct)


def dataset_label_statistics(root: str,
                             folds: Optional[Sequence[int]] = None,
                             window: int = 24,
                             min_fraction: float = 0.01
                             ) -> Dict[str, object]:
    """:func:`window_label_statistics` over a raw PASTIS-layout tree.

    Args:
        root (str): Dataset root (``metadata.geojson``, ``ANNOTATIONS``).
        folds (Sequence[int], optional): Folds to include (default all).
        window (int): Window side. Defaults to 24.
        min_fraction (float): Presence threshold. Defaults to 0.01.

    Returns:
        dict: See :func:`window_label_statistics`.
    """
    with open(osp.join(root, 'metadata.geojson')) as f:
        features = json.load(f)['features']
    ids = [ft['properties']['ID_PATCH'] for ft in features
           if folds is None or ft['properties']['Fold'] in folds]

    def _targets():
        for pid in ids:
            yield np.load(
                osp.join(root, 'ANNOTATIONS', f'TARGET_{pid}.npy'),
                mmap_mode='r')[0]

    return window_label_statistics(_targets(), window, min_fraction)
