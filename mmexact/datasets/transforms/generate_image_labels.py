# Copyright (c) mmexact contributors. All rights reserved.
from typing import Sequence

import numpy as np
from mmcv.transforms import BaseTransform

from mmseg.registry import TRANSFORMS

__all__ = ['GenerateImageLabels', 'image_labels_from_mask']


def image_labels_from_mask(mask: np.ndarray,
                           num_classes: int,
                           min_fraction: float = 0.01,
                           ignore_values: Sequence[int] = (0, 255)
                           ) -> np.ndarray:
    """Image-level multi-hot labels of a window (Exact's presence rule).

    Class ``c`` (1..num_classes) is present iff it covers strictly more
    than ``min_fraction`` of all pixels of the window (ignored pixels count
    as background, i.e. they stay in the denominator).

    Args:
        mask (np.ndarray): Semantic label map (H, W), integer values in
            0..255.
        num_classes (int): Number of foreground classes K.
        min_fraction (float): Presence threshold. Defaults to 0.01.
        ignore_values (Sequence[int]): Values that are never a class.
            Defaults to (0, 255): background and the ignore index.

    Returns:
        np.ndarray: uint8 vector (K,), entry ``c - 1`` for class ``c``.
    """
    if mask.ndim != 2:
        raise ValueError(f'expected an (H, W) label map, got {mask.shape}')
    counts = np.bincount(mask.reshape(-1).astype(np.int64), minlength=256)
    counts[list(ignore_values)] = 0
    present = counts[1:num_classes + 1] > min_fraction * mask.size
    return present.astype(np.uint8)


@TRANSFORMS.register_module()
class GenerateImageLabels(BaseTransform):
    """Image-level labels of a sample from its pixel labels.

    The weak supervision of CAM methods (Exact): foreground class ``c``
    (1..num_classes) is present iff it covers strictly more than
    ``min_fraction`` of the window (Exact's rule with the default 1 %);
    background 0 and the ignore index 255 (void, mapped by
    ``LoadSITSSample``) are never a class but stay in the denominator.
    Put it after ``LoadSITSSample`` and before ``LoadPseudoLabel`` (the
    image labels are those of the ground truth) and before any spatial
    crop; the shipped pipelines have it after ``PadOrCutSequence``, before
    the augmentations. A sample without ``gt_seg_map`` (unlabelled inputs,
    e.g. inference) passes unchanged; one whose file gave image labels
    (``gt_cls_label``, own-region windows) is refused.

    Required Keys:

    - gt_seg_map (np.uint8, (H, W))

    Added Keys:

    - gt_cls_label (np.uint8, (num_classes,))

    Args:
        num_classes (int): Foreground classes K of the image-level label
            (PASTIS: 18, MTLCC: 17).
        min_fraction (float): Presence threshold: a class is present iff
            it covers strictly more than this fraction of the window.
            Defaults to 0.01 (Exact's rule).
        ignore_values (Sequence[int]): Label values that are never a
            class. Defaults to (0, 255).
    """

    def __init__(self,
                 num_classes: int,
                 min_fraction: float = 0.01,
                 ignore_values: Sequence[int] = (0, 255)) -> None:
        if int(num_classes) < 1:
            raise ValueError(f'num_classes must be >= 1, got {num_classes}')
        if not 0 <= min_fraction < 1:
            raise ValueError('min_fraction must lie in [0, 1), got '
                             f'{min_fraction}')
        self.num_classes = int(num_classes)
        self.min_fraction = min_fraction
        self.ignore_values = tuple(int(v) for v in ignore_values)

    def transform(self, results: dict) -> dict:
        if 'gt_seg_map' not in results:
            return results
        if 'gt_cls_label' in results:
            raise ValueError(
                f'{results.get("img_path", "sample")}: the sample already '
                'has image-level labels from its file; remove '
                'GenerateImageLabels from the pipeline (it would replace '
                'them by labels from the pixel map)')
        results['gt_cls_label'] = image_labels_from_mask(
            results['gt_seg_map'], self.num_classes, self.min_fraction,
            self.ignore_values)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(num_classes={self.num_classes}, '
                f'min_fraction={self.min_fraction}, '
                f'ignore_values={self.ignore_values})')
