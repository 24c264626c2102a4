# Copyright (c) mmexact contributors. All rights reserved.
from typing import Optional

import numpy as np
from mmcv.transforms import BaseTransform

from mmseg.registry import TRANSFORMS

__all__ = ['SITSFlip']


@TRANSFORMS.register_module()
class SITSFlip(BaseTransform):
    """Deterministic flip of every frame, for test-time augmentation.

    Flips the image (T, C, H, W) along one spatial axis and records it in
    mmseg's ``flip`` / ``flip_direction`` keys, which ``PackSITSInputs``
    copies into the metainfo and from which the segmentor's
    ``postprocess_result`` flips the prediction back. The label maps are
    left in the original orientation, where the prediction ends up, so the
    metric compares like with like whatever the order of the views in
    ``TestTimeAug``. For training augmentation use :class:`SITSRandomFlip`,
    which flips data and labels together.

    Required Keys:

    - img (np.ndarray, (T, C, H, W))

    Modified Keys:

    - img

    Added Keys:

    - flip (bool), flip_direction (str | None)

    Args:
        direction (str, optional): ``'horizontal'``, ``'vertical'`` or None
            (no flip: the identity view). Defaults to None.
    """

    _AXIS = {'horizontal': -1, 'vertical': -2}

    def __init__(self, direction: Optional[str] = None) -> None:
        if direction is not None and direction not in self._AXIS:
            raise ValueError(f'direction must be None or one of '
                             f'{tuple(self._AXIS)}, got {direction!r}')
        self.direction = direction

    def transform(self, results: dict) -> dict:
        if self.direction is not None:
            results['img'] = np.ascontiguousarray(
                np.flip(results['img'], self._AXIS[self.direction]))
        results['flip'] = self.direction is not None
        results['flip_direction'] = self.direction
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(direction={self.direction!r})'
