# Copyright (c) mmexact contributors. All rights reserved.
from typing import Optional

import numpy as np
from mmcv.transforms import BaseTransform

from mmseg.registry import TRANSFORMS
from ..pastis_meta import PASTIS_VOID, image_labels_from_mask, remap_void
from ..readers import get_sits_reader

__all__ = ['LoadSITSSample']


@TRANSFORMS.register_module()
class LoadSITSSample(BaseTransform):
    """Load one SITS sample (any supported layout) and its labels.

    The dataset decides the layout through ``results['sits_format']``, the
    name of a reader registered in ``SITS_READERS``
    (:mod:`mmexact.datasets.readers.registry`): ``'pastis24'`` (a window
    pickle at ``img_path``), ``'pastis'`` (a window of a raw ``DATA_S2``
    patch), ``'mtlcc'`` (a window of an MTLCC TFRecord tile; ``unknown_as``
    from the data info), or any reader registered by another package — a
    new layout needs no change here. Pixel labels have
    void (19) mapped to 255, the ignore index used everywhere in mmexact
    (MTLCC configs set ``void_label=None``: its reader already maps
    unknown to 0 or 255). Image-level labels (Exact's rule: crop class
    present iff it covers > 1 % of the window) are derived from the
    *ground-truth* pixel labels; the presence rule is set by
    ``min_class_fraction``. Pseudo labels (Exact's stage 2) replace the
    pixel labels in a later step of the pipeline (``LoadPseudoLabel``).

    Required Keys:

    - sits_format, img_path
    - target_path, dates, window (raw layout)
    - window, unknown_as (MTLCC, optional)

    Added Keys:

    - img (np.float32, (T, C, H, W)), doy (np.int64, (T,))
    - gt_seg_map (np.uint8, (H, W)), seg_fields
    - gt_cls_label (np.uint8, (num_image_classes,))
    - img_shape, ori_shape, num_frames

    Args:
        num_image_classes (int): Foreground classes of the image-level
            label. Defaults to 18 (PASTIS).
        min_class_fraction (float): Presence threshold: a class is present
            iff it covers strictly more than this fraction of the window
            (void and ignored pixels count in the denominator). Defaults
            to 0.01 (Exact's rule).
        void_label (int): Raw void value, mapped to 255. Defaults to 19.
    """

    def __init__(self,
                 num_image_classes: int = 18,
                 min_class_fraction: float = 0.01,
                 void_label: Optional[int] = PASTIS_VOID) -> None:
        self.num_image_classes = num_image_classes
        self.min_class_fraction = min_class_fraction
        self.void_label = void_label

    def _read(self, results: dict) -> dict:
        fmt = results.get('sits_format', 'pastis24')
        reader = get_sits_reader(fmt, str(results.get('img_path')))
        return reader(results)

    def transform(self, results: dict) -> dict:
        sample = self._read(results)
        doy = np.asarray(sample['doy'])
        if np.any(np.diff(doy) < 0):  # keep the day-of-year order
            order = np.argsort(doy, kind='stable')
            sample['img'], sample['doy'] = sample['img'][order], doy[order]
        img = sample['img'].astype(np.float32)
        results['img'] = img
        results['doy'] = sample['doy']
        results['num_frames'] = img.shape[0]
        results['img_shape'] = img.shape[-2:]
        results['ori_shape'] = img.shape[-2:]
        labels = sample['labels']
        if labels is None:
            labels = np.full(img.shape[-2:], 255, dtype=np.uint8)
        ignore = (0, 255) + ((self.void_label, )
                             if self.void_label is not None else ())
        results['gt_cls_label'] = image_labels_from_mask(
            labels, self.num_image_classes, self.min_class_fraction, ignore)
        if self.void_label is not None:
            labels = remap_void(labels, self.void_label)
        results['gt_seg_map'] = labels
        results.setdefault('seg_fields', [])
        if 'gt_seg_map' not in results['seg_fields']:
            results['seg_fields'].append('gt_seg_map')
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(num_image_classes='
                f'{self.num_image_classes}, min_class_fraction='
                f'{self.min_class_fraction}, void_label={self.void_label})')
