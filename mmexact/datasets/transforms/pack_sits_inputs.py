# Copyright (c) mmexact contributors. All rights reserved.
import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine.structures import PixelData

from mmseg.registry import TRANSFORMS
from mmseg.structures import SegDataSample

__all__ = ['PackSITSInputs']


@TRANSFORMS.register_module()
class PackSITSInputs(BaseTransform):
    """Pack a SITS sample into ``inputs`` and a ``SegDataSample``.

    ``inputs`` is a float32 tensor (T, C + 1, H, W) whose last channel is
    the integer day of year (0 = padded frame; see ``AppendDayOfYear``).
    The data sample carries ``gt_sem_seg`` (1, H, W) int64 and the
    image-level multi-hot label as the data field ``gt_cls_label`` (K,)
    float, which heads trained from image labels read.

    Required Keys:

    - img (np.ndarray, (T, C + 1, H, W))
    - gt_seg_map (optional), gt_cls_label (optional)

    Added Keys:

    - inputs (torch.Tensor), data_samples (SegDataSample)

    Args:
        meta_keys (tuple[str]): Keys copied into the sample's metainfo.
    """

    def __init__(self,
                 meta_keys=('img_path', 'seg_map_path', 'sample_id',
                            'ori_shape', 'img_shape', 'num_frames', 'flip',
                            'flip_direction', 'reduce_zero_label')
                 ) -> None:
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: dict) -> dict:
        img = results['img']
        if img.ndim != 4:
            raise ValueError(
                f'{results.get("img_path", "sample")}: PackSITSInputs needs '
                f'a (T, C + 1, H, W) image, got {img.shape}')
        packed = dict(inputs=torch.from_numpy(
            np.ascontiguousarray(img, dtype=np.float32)))
        sample = SegDataSample()
        if 'gt_seg_map' in results:
            seg = torch.from_numpy(
                np.ascontiguousarray(results['gt_seg_map']).astype(
                    np.int64))[None]
            sample.gt_sem_seg = PixelData(data=seg)
        if 'gt_cls_label' in results:
            sample.set_field(
                torch.as_tensor(results['gt_cls_label'],
                                dtype=torch.float32), 'gt_cls_label')
        meta = {k: results[k] for k in self.meta_keys if k in results}
        meta.setdefault('flip', False)
        meta.setdefault('flip_direction', None)
        sample.set_metainfo(meta)
        packed['data_samples'] = sample
        return packed

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(meta_keys={self.meta_keys})'
