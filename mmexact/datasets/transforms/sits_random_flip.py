# Copyright (c) mmexact contributors. All rights reserved.
import numpy as np
from mmcv.transforms import BaseTransform

from mmseg.registry import TRANSFORMS

__all__ = ['SITSRandomFlip']


@TRANSFORMS.register_module()
class SITSRandomFlip(BaseTransform):
    """Flip every frame and the label maps horizontally and/or vertically.

    Required Keys:

    - img (np.ndarray, (T, C, H, W)), seg_fields

    Modified Keys:

    - img, every key in ``seg_fields``

    Added Keys:

    - sits_flip (list[str]): the directions applied (data and labels are
      flipped together, so nothing needs undoing at test time; mmseg's
      ``flip`` key stays untouched).

    Args:
        prob (float): Probability of each direction. Defaults to 0.5.
        directions (tuple[str]): Subset of ``('horizontal', 'vertical')``.
    """

    _AXIS = {'horizontal': -1, 'vertical': -2}

    def __init__(self,
                 prob: float = 0.5,
                 directions=('horizontal', 'vertical')) -> None:
        if not 0 <= prob <= 1:
            raise ValueError('prob must be in [0, 1]')
        unknown = set(directions) - set(self._AXIS)
        if unknown:
            raise ValueError(f'unknown flip directions {sorted(unknown)}')
        self.prob = prob
        self.directions = tuple(directions)

    def transform(self, results: dict) -> dict:
        done = [d for d in self.directions if np.random.rand() < self.prob]
        for d in done:
            axis = self._AXIS[d]
            results['img'] = np.ascontiguousarray(
                np.flip(results['img'], axis))
            for key in results.get('seg_fields', []):
                results[key] = np.ascontiguousarray(
                    np.flip(results[key], axis))
        results['sits_flip'] = done
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(prob={self.prob}, '
                f'directions={self.directions})')
