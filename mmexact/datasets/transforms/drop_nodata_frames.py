# Copyright (c) mmexact contributors. All rights reserved.
import numpy as np
from mmcv.transforms import BaseTransform

from mmseg.registry import TRANSFORMS
from ...structures import SITSDataError

__all__ = ['DropNoDataFrames']


@TRANSFORMS.register_module()
class DropNoDataFrames(BaseTransform):
    """Remove frames that are (mostly) no-data from a time series.

    PASTIS marks missing acquisitions with -10000 in every band. The
    reference keeps such frames (they become strongly negative after
    normalisation) — that is what the shipped configs do. Adding this
    transform before ``NormalizeSITS`` drops every frame whose fraction of
    no-data pixels is at least ``min_fraction``; after ``PadOrCutSequence``
    the series is then padded instead, and a backbone with
    ``mask_padded_frames=True`` ignores those slots entirely (the
    "mask the frame" option). A sample with no usable frame is an error.

    Required Keys:

    - img (np.ndarray, (T, C, H, W)), doy (np.ndarray, (T,))

    Modified Keys:

    - img, doy

    Added Keys:

    - num_dropped_frames (int)

    Args:
        nodata (float): No-data value. Defaults to -10000.
        min_fraction (float): Drop a frame when at least this fraction of
            its pixels is no-data in all bands. Defaults to 1.0 (only fully
            empty frames).
    """

    def __init__(self, nodata: float = -10000, min_fraction: float = 1.0):
        if not 0 < min_fraction <= 1:
            raise ValueError('min_fraction must be in (0, 1]')
        self.nodata = nodata
        self.min_fraction = min_fraction

    def transform(self, results: dict) -> dict:
        img = results['img']
        empty = (img == self.nodata).all(axis=1)  # (T, H, W)
        frac = empty.reshape(img.shape[0], -1).mean(axis=1)
        keep = frac < self.min_fraction
        if not keep.any():
            raise SITSDataError(
                f'{results.get("sample_id") or results.get("img_path")}: '
                'every frame is no-data')
        results['img'] = img[keep]
        results['doy'] = np.asarray(results['doy'])[keep]
        results['num_dropped_frames'] = int((~keep).sum())
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(nodata={self.nodata}, '
                f'min_fraction={self.min_fraction})')
