# Copyright (c) mmexact contributors. All rights reserved.
from typing import Union

import numpy as np
from mmcv.transforms import BaseTransform

from mmseg.registry import TRANSFORMS
from ..pastis_meta import remap_void
from ..readers import get_sits_reader

__all__ = ['LoadSITSSample']


@TRANSFORMS.register_module()
class LoadSITSSample(BaseTransform):
    """Load one SITS sample (any supported layout) and its pixel labels.

    The dataset decides the layout through ``results['sits_format']``, the
    name of a reader registered in ``SITS_READERS``
    (:mod:`mmexact.datasets.readers.registry`): ``'pastis24'`` (a window
    pickle at ``img_path``), ``'pastis'`` (a window of a raw ``DATA_S2``
    patch), ``'mtlcc'`` (a window of an MTLCC TFRecord tile; ``unknown_as``
    from the data info), or any reader registered by another package — a
    new layout needs no change here. The raw void label is mapped to 255,
    the ignore index used everywhere in mmexact; it comes from the data
    info (``void_label``, set by :class:`SITSSegDataset` from its metainfo:
    19 for PASTIS, none for MTLCC, whose reader already maps unknown to 0
    or 255) unless given here. Frames are put in day-of-year order.
    Image-level labels are those the file stores (own-region windows), or
    made by a later step from the pixel labels (``GenerateImageLabels``),
    pseudo labels (Exact's stage 2) replace the pixel labels in another
    (``LoadPseudoLabel``).

    Required Keys:

    - sits_format, img_path
    - target_path, dates, window (raw layout)
    - window, unknown_as (MTLCC, optional)
    - void_label (optional; with ``void_label='dataset'``)

    Added Keys:

    - img (np.float32, (T, C, H, W)), doy (np.int64, (T,))
    - gt_seg_map (np.uint8, (H, W); 255 everywhere without labels),
      seg_fields
    - img_shape, ori_shape, num_frames
    - gt_cls_label (np.uint8, (K,); only where the layout stores image
      labels, e.g. own-region windows)

    Args:
        void_label (int | None | str): Raw void value, mapped to 255; None:
            no void value. Defaults to ``'dataset'``: the data info's
            ``void_label`` (none when the data info has no such key).
    """

    FROM_DATASET = 'dataset'

    def __init__(self,
                 void_label: Union[int, None, str] = FROM_DATASET,
                 **kwargs) -> None:
        moved = sorted({'num_image_classes', 'min_class_fraction'}
                       & set(kwargs))
        if moved:
            raise TypeError(
                'LoadSITSSample no longer makes image-level labels: remove '
                f'{", ".join(moved)} and add dict(type="GenerateImageLabels",'
                ' num_classes=..., min_fraction=...) to the pipeline after '
                'it (before LoadPseudoLabel)')
        if kwargs:
            raise TypeError('LoadSITSSample got unexpected arguments '
                            f'{sorted(kwargs)}')
        if isinstance(void_label, str) and void_label != self.FROM_DATASET:
            raise ValueError(f'void_label must be an int, None or '
                             f'{self.FROM_DATASET!r}, got {void_label!r}')
        self.void_label = void_label

    def _read(self, results: dict) -> dict:
        fmt = results.get('sits_format')
        if fmt is None:
            path = results.get('img_path')
            raise KeyError(f"{path}: the data info names no 'sits_format' "
                           '(the reader of its layout, set by the dataset '
                           'class)')
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
        void = self.void_label
        if void == self.FROM_DATASET:
            void = results.get('void_label', None)
        if void is not None:
            labels = remap_void(labels, void)
        results['gt_seg_map'] = labels
        if sample.get('image_labels') is not None:
            results['gt_cls_label'] = np.asarray(sample['image_labels'],
                                                 np.uint8)
        results.setdefault('seg_fields', [])
        if 'gt_seg_map' not in results['seg_fields']:
            results['seg_fields'].append('gt_seg_map')
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(void_label={self.void_label!r})'
