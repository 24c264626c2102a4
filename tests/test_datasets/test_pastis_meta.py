# Copyright (c) mmexact contributors. All rights reserved.
import numpy as np

from mmexact.datasets.pastis_meta import (PASTIS_CLASSES, PASTIS_PALETTE,
                                          image_labels_from_mask, remap_void)


def test_presence_rule_boundary():
    mask = np.zeros((24, 24), np.uint8)
    mask.flat[:6] = 3  # 6 px > 5.76 -> present
    mask.flat[6:11] = 17  # 5 px -> absent
    mask.flat[11:100] = 19  # void counts as background
    labels = image_labels_from_mask(mask)
    assert labels.shape == (18, ) and labels.dtype == np.uint8
    assert np.flatnonzero(labels).tolist() == [2]  # class 3 -> index 2


def test_void_remap_and_meta():
    mask = np.array([[0, 19], [18, 5]], np.uint8)
    assert remap_void(mask).tolist() == [[0, 255], [18, 5]]
    assert mask[0, 1] == 19  # input untouched
    assert len(PASTIS_CLASSES) == len(PASTIS_PALETTE) == 19
