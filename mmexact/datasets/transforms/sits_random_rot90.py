# Copyright (c) mmexact contributors. All rights reserved.
import numpy as np
from mmcv.transforms import BaseTransform

from mmseg.registry import TRANSFORMS

__all__ = ['SITSRandomRot90']


@TRANSFORMS.register_module()
class SITSRandomRot90(BaseTransform):
    """Rotate every frame and the label maps by k x 90 degrees.

    With probability ``prob`` a k in {1, 2, 3} is drawn uniformly; the same
    rotation is applied to all frames and all maps in ``seg_fields``.

    Required Keys:

    - img (np.ndarray, (T, C, H, W)), seg_fields

    Modified Keys:

    - img, every key in ``seg_fields``, img_shape

    Added Keys:

    - rot90_k (int)

    Args:
        prob (float): Probability of rotating. Defaults to 0.75.
    """

    def __init__(self, prob: float = 0.75) -> None:
        if not 0 <= prob <= 1:
            raise ValueError('prob must be in [0, 1]')
        self.prob = prob

    def transform(self, results: dict) -> dict:
        k = int(np.random.randint(1, 4)) if np.random.rand() < self.prob \
            else 0
        if k:
            results['img'] = np.ascontiguousarray(
                np.rot90(results['img'], k, axes=(-2, -1)))
            for key in results.get('seg_fields', []):
                results[key] = np.ascontiguousarray(
                    np.rot90(results[key], k, axes=(-2, -1)))
            results['img_shape'] = results['img'].shape[-2:]
        results['rot90_k'] = k
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(prob={self.prob})'
