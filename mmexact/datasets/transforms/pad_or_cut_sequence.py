# Copyright (c) mmexact contributors. All rights reserved.
import numpy as np
from mmcv.transforms import BaseTransform

from mmseg.registry import TRANSFORMS

__all__ = ['PadOrCutSequence']


@TRANSFORMS.register_module()
class PadOrCutSequence(BaseTransform):
    """Bring a time series to exactly ``max_seq_len`` frames.

    Shorter series are zero-padded at the end, the padded frames getting
    day of year 0 (which marks them as padding downstream). Longer series
    keep their first ``max_seq_len`` frames (the reference behaviour), or,
    with ``random_subsample=True`` (augmentation), a random ordered subset.

    Required Keys:

    - img (np.ndarray, (T, C, H, W)), doy (np.ndarray, (T,))

    Modified Keys:

    - img, doy

    Args:
        max_seq_len (int): Output length. Defaults to 60.
        random_subsample (bool): Random frames instead of the first ones
            when cutting. Defaults to False.
    """

    def __init__(self,
                 max_seq_len: int = 60,
                 random_subsample: bool = False) -> None:
        if max_seq_len < 1:
            raise ValueError('max_seq_len must be >= 1')
        self.max_seq_len = max_seq_len
        self.random_subsample = random_subsample

    def transform(self, results: dict) -> dict:
        img, doy = results['img'], np.asarray(results['doy'])
        t = img.shape[0]
        if t > self.max_seq_len:
            if self.random_subsample:
                keep = np.sort(
                    np.random.choice(t, self.max_seq_len, replace=False))
            else:
                keep = np.arange(self.max_seq_len)
            img, doy = img[keep], doy[keep]
        elif t < self.max_seq_len:
            pad = self.max_seq_len - t
            img = np.concatenate(
                [img, np.zeros((pad, ) + img.shape[1:], img.dtype)])
            doy = np.concatenate([doy, np.zeros(pad, doy.dtype)])
        results['img'], results['doy'] = img, doy
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(max_seq_len={self.max_seq_len},'
                f' random_subsample={self.random_subsample})')
