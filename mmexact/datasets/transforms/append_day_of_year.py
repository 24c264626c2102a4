# Copyright (c) mmexact contributors. All rights reserved.
import numpy as np
from mmcv.transforms import BaseTransform

from mmseg.registry import TRANSFORMS

__all__ = ['AppendDayOfYear']


@TRANSFORMS.register_module()
class AppendDayOfYear(BaseTransform):
    """Append the day of year as a constant last channel of every frame.

    The value is the integer day of year (1..366); padded frames carry 0.
    Backbones read dates and padding from this channel, so packed inputs
    are self-contained (B, T, C + 1, H, W) tensors.

    Required Keys:

    - img (np.ndarray, (T, C, H, W)), doy (np.ndarray, (T,))

    Modified Keys:

    - img (np.float32, (T, C + 1, H, W))
    """

    def transform(self, results: dict) -> dict:
        img = results['img']
        doy = np.asarray(results['doy'], dtype=np.float32)
        if doy.shape != (img.shape[0], ):
            raise ValueError(f'{results.get("img_path", "sample")}: doy has '
                             f'shape {doy.shape}, image has {img.shape[0]} '
                             'frames')
        plane = np.broadcast_to(doy[:, None, None, None],
                                (img.shape[0], 1) + img.shape[2:])
        results['img'] = np.concatenate([img.astype(np.float32), plane],
                                        axis=1)
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}()'
