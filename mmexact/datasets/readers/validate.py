# Copyright (c) mmexact contributors. All rights reserved.
"""Checks shared by all SITS readers; errors always name the source."""
from typing import Optional

import numpy as np

from ...structures import SITSDataError

__all__ = ['validate_sits_sample']


def validate_sits_sample(img: np.ndarray,
                         doy: np.ndarray,
                         labels: np.ndarray,
                         source: str,
                         max_label: int = 19,
                         ignore_index: Optional[int] = None) -> None:
    """Validate the arrays of one sample.

    Args:
        img (np.ndarray): Image time series (T, C, H, W).
        doy (np.ndarray): Day of year per frame (T,), values 1..366.
        labels (np.ndarray | None): Semantic labels (H, W), 0..max_label.
        source (str): File (or file + window) the arrays came from.
        max_label (int): Largest valid label value. Defaults to 19 (void).
        ignore_index (int, optional): One more accepted label value
            outside ``0..max_label`` (e.g. 255). Defaults to None (none).

    Raises:
        SITSDataError: Any inconsistency, with ``source`` in the message.
    """
    if not isinstance(img, np.ndarray) or img.ndim != 4:
        shape = getattr(img, 'shape', type(img).__name__)
        raise SITSDataError(f'{source}: "img" must be a (T, C, H, W) array, '
                            f'got {shape}')
    if img.shape[0] == 0:
        raise SITSDataError(f'{source}: the time series is empty (T = 0)')
    if np.issubdtype(img.dtype, np.floating):
        finite = np.isfinite(img).reshape(img.shape[0], -1).all(axis=1)
        if not finite.all():
            raise SITSDataError(
                f'{source}: non-finite reflectances (NaN/Inf) in frame(s) '
                f'{np.flatnonzero(~finite).tolist()[:10]}; fix the data or '
                'replace them by the no-data value -10000')
    doy = np.asarray(doy)
    if doy.shape != (img.shape[0], ):
        raise SITSDataError(f'{source}: "doy" has shape {doy.shape}, '
                            f'expected ({img.shape[0]},) to match "img"')
    if doy.size and (doy.min() < 1 or doy.max() > 366):
        bad = doy[(doy < 1) | (doy > 366)]
        raise SITSDataError(f'{source}: day-of-year values must lie in '
                            f'1..366, found {bad.tolist()[:5]}')
    if labels is None:
        return
    if labels.shape != img.shape[-2:]:
        raise SITSDataError(f'{source}: labels have shape {labels.shape}, '
                            f'image is {img.shape[-2:]}')
    checked = labels
    if ignore_index is not None:
        checked = labels[labels != ignore_index]
    if checked.size and (checked.min() < 0 or checked.max() > max_label):
        extra = '' if ignore_index is None else f' (or {ignore_index})'
        raise SITSDataError(
            f'{source}: label values must lie in 0..{max_label}{extra}, '
            f'found {int(checked.min())}..{int(checked.max())}')
