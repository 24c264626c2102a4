# Copyright (c) mmexact contributors. All rights reserved.
"""Regional crop mixes (one per S2 tile) and the skewed class prior."""
from typing import Dict, List

import numpy as np

from .covers import (BARE, CONIFER, FOREST, GRASSLAND, URBAN_AREA,
                     WATER_BODY)

__all__ = ['CLASS_PRIOR', 'SIZE_PREFERENCE', 'REGIONS', 'SUBCODES',
           'region_of_tile', 'class_weights']

# Share of crop parcels per class, PASTIS-like: meadow, wheat and corn
# dominate, sorghum, potatoes and mixed cereal are rare.
CLASS_PRIOR: Dict[int, float] = {
    1: 30., 2: 15., 3: 14., 4: 5., 5: 4., 6: 1.5, 7: 2., 8: 3., 9: 1.2,
    10: 2.5, 11: 2., 12: 1.8, 13: 0.7, 14: 3., 15: 1.1, 16: 1.3, 17: 0.9,
    18: 0.4
}

# Exponent of the parcel area in the class choice: arable crops favour
# large fields, vines, orchards and market gardens small ones.
SIZE_PREFERENCE: Dict[int, float] = {
    2: 0.3, 3: 0.3, 4: 0.2, 5: 0.3, 9: 0.3, 10: 0.2, 11: 0.3, 7: 0.2,
    8: -0.4, 12: -0.5, 16: -0.4, 14: -0.1, 13: 0.1
}

# Fine-grained crop codes written in TARGET channel 2 (several per class,
# like the declared crop codes PASTIS groups into its 18 classes).
SUBCODES: Dict[int, tuple] = {
    1: (3, 6, 17, 34), 2: (1, ), 3: (4, 12), 4: (8, ), 5: (9, ), 6: (10, ),
    7: (55, ), 8: (21, 22), 9: (5, ), 10: (11, ), 11: (2, ), 12: (30, 31, 32),
    13: (15, ), 14: (36, 37), 15: (40, ), 16: (23, 24), 17: (57, ), 18: (13, )
}

REGIONS: List[dict] = [
    # Oceanic west (T30UXV-like): grassland and fodder systems.
    dict(tile='t30uxv', shift=6., crops={1: 1.6, 3: 1.4, 13: 2., 14: 1.3,
                                          7: 0.15, 8: 0.05, 11: 0.1, 18: 0.1,
                                          15: 0.2, 16: 0.6},
         background={FOREST: 3, CONIFER: 1, URBAN_AREA: 2, WATER_BODY: 0.5,
                     GRASSLAND: 3, BARE: 0.5}),
    # Mediterranean south-east (T31TFJ-like): durum, sunflower, vines.
    dict(tile='t31tfj', shift=-9., crops={11: 5., 7: 4., 8: 6., 18: 4.,
                                           15: 3., 16: 4., 12: 2.5, 1: 0.5,
                                           13: 0.3, 9: 0.2, 3: 0.8},
         background={FOREST: 2, CONIFER: 2, URBAN_AREA: 2, WATER_BODY: 0.5,
                     GRASSLAND: 3, BARE: 1.5}),
    # Continental east (T31TFM-like): maize, soybean, orchards.
    dict(tile='t31tfm', shift=-3., crops={3: 1.5, 15: 3., 16: 2., 12: 1.5,
                                           10: 1.5},
         background={FOREST: 4, CONIFER: 1, URBAN_AREA: 1.5, WATER_BODY: 1,
                     GRASSLAND: 2, BARE: 0.5}),
    # Rhine valley (T32ULU-like): maize, beet, potatoes, spring barley.
    dict(tile='t32ulu', shift=0., crops={3: 1.8, 9: 3., 13: 1.5, 6: 2.,
                                          5: 1.5, 8: 1.5},
         background={FOREST: 3, CONIFER: 1.5, URBAN_AREA: 2.5,
                     WATER_BODY: 1, GRASSLAND: 2, BARE: 0.5}),
]


def region_of_tile(tile: int) -> dict:
    """Region of the ``tile``-th tile (the four regions repeat)."""
    return REGIONS[tile % len(REGIONS)]


def class_weights(region: dict) -> np.ndarray:
    """Crop class prior (18,) of a region, for classes 1..18."""
    weights = np.array([CLASS_PRIOR[c] * region['crops'].get(c, 1.)
                        for c in range(1, 19)])
    return weights / weights.sum()
