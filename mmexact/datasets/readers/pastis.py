# Copyright (c) mmexact contributors. All rights reserved.
"""Reader for windows of the raw PASTIS layout (DATA_S2 / ANNOTATIONS)."""
import datetime
from typing import Dict, Sequence, Tuple

import numpy as np

from ...structures import SITSDataError
from .registry import SITS_READERS
from .validate import validate_sits_sample

__all__ = ['dates_to_doy', 'read_pastis_window', 'load_pastis_sample']


def dates_to_doy(dates: Sequence, source: str = '') -> np.ndarray:
    """Convert ``YYYYMMDD`` dates (int or str) to day of year (year ignored).

    Args:
        dates (Sequence[int | str]): Acquisition dates.
        source (str): Name used in error messages.

    Returns:
        np.ndarray: int64 day-of-year values (1..366).
    """
    out = []
    for d in dates:
        try:
            date = datetime.datetime.strptime(str(int(d)), '%Y%m%d')
        except (TypeError, ValueError) as exc:
            raise SITSDataError(f'{source}: invalid S2 date {d!r} '
                                '(expected YYYYMMDD)') from exc
        out.append(date.timetuple().tm_yday)
    return np.asarray(out, dtype=np.int64)


def read_pastis_window(s2_path: str, target_path: str, dates: Sequence,
                       window: Tuple[int, int, int, int]
                       ) -> Dict[str, np.ndarray]:
    """Read one window of a raw PASTIS patch, sorted by day of year.

    Frames are re-ordered by day of year (stable sort), exactly as the
    PASTIS24 conversion does, so both layouts give identical samples.

    Args:
        s2_path (str): ``DATA_S2/S2_<id>.npy`` (T, 10, 128, 128) int16.
        target_path (str | None): ``ANNOTATIONS/TARGET_<id>.npy`` (3, H, W)
            or (H, W); ``None`` for unlabelled data.
        dates (Sequence): ``dates-S2`` of the patch (YYYYMMDD), length T.
        window (tuple[int, int, int, int]): ``(y0, x0, height, width)``.

    Returns:
        dict: ``img`` (T, C, h, w), ``doy`` (T,), ``labels`` (h, w) uint8.
    """
    y0, x0, h, w = window
    try:
        series = np.load(s2_path, mmap_mode='r', allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise SITSDataError(
            f'{s2_path}: cannot read S2 array ({exc})') from exc
    if series.ndim != 4:
        raise SITSDataError(f'{s2_path}: expected (T, C, H, W), got '
                            f'{series.shape}')
    if y0 + h > series.shape[-2] or x0 + w > series.shape[-1]:
        raise SITSDataError(f'{s2_path}: window {window} exceeds the patch '
                            f'size {series.shape[-2:]}')
    doy = dates_to_doy(dates, s2_path)
    if len(doy) != series.shape[0]:
        raise SITSDataError(f'{s2_path}: {series.shape[0]} frames but '
                            f'{len(doy)} dates in metadata.geojson')
    order = np.argsort(doy, kind='stable')
    img = np.ascontiguousarray(series[:, :, y0:y0 + h, x0:x0 + w])[order]
    labels = None
    if target_path is not None:
        try:
            target = np.load(target_path, mmap_mode='r', allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise SITSDataError(
                f'{target_path}: cannot read target ({exc})') from exc
        if target.ndim == 3:
            target = target[0]
        if target.ndim != 2:
            raise SITSDataError(f'{target_path}: expected (3, H, W) or '
                                f'(H, W), got {target.shape}')
        labels = np.asarray(target[y0:y0 + h, x0:x0 + w])
    validate_sits_sample(img, doy[order], labels, f'{s2_path}[{window}]')
    if labels is not None:
        labels = labels.astype(np.uint8)
    return dict(img=img, doy=doy[order], labels=labels)


@SITS_READERS.register_module(name='pastis')
def load_pastis_sample(info: dict) -> Dict[str, np.ndarray]:
    """Reader ``'pastis'``: ``info['window']`` of the raw patch
    ``info['img_path']`` (labels from ``info['target_path']`` if set)."""
    return read_pastis_window(info['img_path'], info.get('target_path'),
                              info['dates'], info['window'])
