# Copyright (c) mmexact contributors. All rights reserved.
"""PASTIS class names, palette, band order, band statistics and the void
label helper."""
import numpy as np

from ..structures import S2_BANDS

__all__ = [
    'PASTIS_CLASSES', 'PASTIS_PALETTE', 'PASTIS_VOID', 'PASTIS_METAINFO',
    'PASTIS_FOLD1_MEAN', 'PASTIS_FOLD1_STD', 'remap_void'
]

# Semantic classes of PASTIS (TARGET channel 0). 19 = void, remapped to 255.
PASTIS_CLASSES = ('Background', 'Meadow', 'Soft winter wheat', 'Corn',
                  'Winter barley', 'Winter rapeseed', 'Spring barley',
                  'Sunflower', 'Grapevine', 'Beet', 'Winter triticale',
                  'Winter durum wheat', 'Fruits, vegetables, flowers',
                  'Potatoes', 'Leguminous fodder', 'Soybeans', 'Orchard',
                  'Mixed cereal', 'Sorghum')
PASTIS_VOID = 19

# One colour per class (background black); visually distinct, fixed.
PASTIS_PALETTE = [[0, 0, 0], [91, 172, 73], [243, 208, 74], [237, 120, 40],
                  [171, 125, 61], [246, 239, 30], [212, 181, 115],
                  [250, 150, 200], [122, 42, 110], [200, 60, 60],
                  [130, 160, 220], [255, 220, 140], [60, 200, 190],
                  [150, 90, 40], [120, 220, 120], [60, 90, 200],
                  [40, 120, 60], [190, 190, 60], [230, 80, 150]]

#: Dataset metainfo of the PASTIS layouts (``PASTISDataset``,
#: ``PASTIS24Dataset``): classes, palette, the bands in channel order and
#: the raw void label (mapped to 255 by ``LoadSITSSample``).
PASTIS_METAINFO = dict(
    classes=PASTIS_CLASSES,
    palette=PASTIS_PALETTE,
    bands=S2_BANDS,
    void_label=PASTIS_VOID)

# "Fold_1" statistics of NORM_S2_patch.json, used for every split by TSViT
# and Exact (bands in :data:`mmexact.structures.S2_BANDS` order).
PASTIS_FOLD1_MEAN = (1165.9398193359375, 1375.6534423828125,
                     1429.2191162109375, 1764.798828125, 2719.273193359375,
                     3063.61181640625, 3205.90185546875, 3319.109619140625,
                     2422.904296875, 1639.370361328125)
PASTIS_FOLD1_STD = (1942.6156005859375, 1881.9234619140625,
                    1959.3798828125, 1867.2239990234375, 1754.5850830078125,
                    1769.4046630859375, 1784.860595703125,
                    1767.7100830078125, 1458.963623046875,
                    1299.2833251953125)


def remap_void(mask: np.ndarray,
               void: int = PASTIS_VOID,
               ignore_index: int = 255) -> np.ndarray:
    """Return a copy of ``mask`` with the void label replaced by 255."""
    out = np.array(mask, dtype=np.uint8, copy=True)
    out[mask == void] = ignore_index
    return out
