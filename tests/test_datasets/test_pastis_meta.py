# Copyright (c) mmexact contributors. All rights reserved.
import numpy as np

from mmexact.datasets.pastis_meta import (PASTIS_CLASSES, PASTIS_METAINFO,
                                          PASTIS_PALETTE, PASTIS_VOID,
                                          remap_void)
from mmexact.structures import S2_BANDS


def test_void_remap_and_meta():
    mask = np.array([[0, 19], [18, 5]], np.uint8)
    assert remap_void(mask).tolist() == [[0, 255], [18, 5]]
    assert mask[0, 1] == 19  # input untouched
    assert len(PASTIS_CLASSES) == len(PASTIS_PALETTE) == 19
    assert PASTIS_METAINFO == dict(classes=PASTIS_CLASSES,
                                   palette=PASTIS_PALETTE, bands=S2_BANDS,
                                   void_label=PASTIS_VOID)
