# Copyright (c) mmexact contributors. All rights reserved.
"""The cover types: 18 PASTIS crop classes and 8 background land covers.

Winter cereals (soft wheat 2, winter barley 4, triticale 10, durum wheat
11, mixed cereal 17) form a confusable group: the same cycle, shifted by
a few days (barley earliest), with slightly different vigour and leaf
spectra, and per-parcel timing jitter of the same size as the
differences. Non-declared grassland (background) resembles meadow
without mowing; hedges look like forest.
"""
from typing import Dict, Union

import numpy as np

from .phenology import (AnnualCrop, Perennial, Vegetables, annual_fractions,
                        next_year, perennial_fractions, vegetable_fractions)
from .spectra import BROWN, CANOPY, DRY, ROAD, URBAN, WATER

__all__ = [
    'COVERS', 'BACKGROUND_KINDS', 'FOREST', 'CONIFER', 'URBAN_AREA',
    'WATER_BODY', 'GRASSLAND', 'BARE', 'HEDGE', 'TRACK', 'cover_fractions',
    'cover_gain', 'cover_heterogeneity'
]

ny = next_year

# Background land-cover kinds (class 0), numbered after the classes.
FOREST, CONIFER, URBAN_AREA, WATER_BODY, GRASSLAND, BARE, HEDGE, TRACK = \
    range(20, 28)
BACKGROUND_KINDS = (FOREST, CONIFER, URBAN_AREA, WATER_BODY, GRASSLAND,
                    BARE, HEDGE, TRACK)

_WINTER_CEREAL = dict(winter_level=0.3, green_width=13., sen_width=7.,
                      dry=0.75, stubble=0.3, timing_sd=6., pre_cover=0.2)

COVERS: Dict[int, Union[AnnualCrop, Perennial, Vegetables]] = {
    # 1 Meadow: permanent / temporary grassland, mown 1-3 times.
    1: Perennial(0.62, 0.9, 75, 315, under={DRY: 0.2}, drought=0.2,
                 cuts=(1, 3), gain=(0.95, 1.02, 1.05), heterogeneity=0.1,
                 jitter=0.1),
    # 2 Soft winter wheat.
    2: AnnualCrop(ny(77), 0.95, ny(178), ny(201), emergence=60,
                  **_WINTER_CEREAL),
    # 3 Corn (grain or silage).
    3: AnnualCrop(ny(170), 0.93, ny(252), ny(280), green_width=9.,
                  sen_width=10., dry=0.6, stubble=0.1, pre_cover=0.5,
                  timing_sd=7., gain=(1.04, 1.03, 1.)),
    # 4 Winter barley: the earliest cereal.
    4: AnnualCrop(ny(69), 0.92, ny(166), ny(186), emergence=54,
                  gain=(0.98, 1., 1.02), **_WINTER_CEREAL),
    # 5 Winter rapeseed: green all autumn, yellow bloom in April.
    5: AnnualCrop(ny(62), 0.92, ny(166), ny(190), emergence=14,
                  winter_level=0.62, green_width=12., dry=0.55,
                  dry_kind=BROWN, flower=0.45, flower_day=ny(108),
                  stubble=0.1, pre_cover=0., gain=(1.06, 1., 1.)),
    # 6 Spring barley.
    6: AnnualCrop(ny(103), 0.85, ny(181), ny(203), green_width=8., dry=0.7,
                  stubble=0.3, pre_cover=0.5),
    # 7 Sunflower: yellow heads in July, dark dry heads in August.
    7: AnnualCrop(ny(152), 0.74, ny(216), ny(255), green_width=8., dry=0.7,
                  dry_kind=BROWN, flower=0.3, flower_day=ny(192),
                  gain=(1.06, 1., 0.98)),
    # 8 Grapevine: rows of vines over bare or grassy soil.
    8: Perennial(0.12, 0.45, 125, 295, under={BROWN: 0.12}, cuts=(0, 0),
                 gain=(0.92, 1., 1.), heterogeneity=0.14),
    # 9 Beet: green until the autumn harvest.
    9: AnnualCrop(ny(128), 0.93, ny(287), ny(287), green_width=10.,
                  sen_width=3., dry=0.05, stubble=0.05, pre_cover=0.5,
                  gain=(1.08, 1.02, 0.97)),
    # 10 Winter triticale: the tallest and latest cereal.
    10: AnnualCrop(ny(78), 0.96, ny(182), ny(205), emergence=58,
                   gain=(1.02, 1., 0.98), **_WINTER_CEREAL),
    # 11 Winter durum wheat: slightly earlier, bluish leaves.
    11: AnnualCrop(ny(73), 0.92, ny(172), ny(194), emergence=62,
                   dark=0.08, gain=(1., 0.97, 1.), **_WINTER_CEREAL),
    # 12 Fruits, vegetables, flowers.
    12: Vegetables(),
    # 13 Potatoes: early, abrupt haulm destruction.
    13: AnnualCrop(ny(140), 0.88, ny(205), ny(235), green_width=7.,
                   sen_width=3., dry=0.45, dry_kind=BROWN, stubble=0.05,
                   pre_cover=0.4, gain=(1.07, 1.02, 1.)),
    # 14 Leguminous fodder (alfalfa, clover): frequent cuts.
    14: Perennial(0.5, 0.9, 85, 310, under={DRY: 0.1}, cuts=(3, 4),
                  cut_depth=0.7, gain=(1.05, 1., 1.)),
    # 15 Soybeans.
    15: AnnualCrop(ny(166), 0.9, ny(250), ny(272), green_width=8.,
                   sen_width=6., dry=0.6, dry_kind=BROWN, stubble=0.1,
                   pre_cover=0.4, gain=(1.06, 1., 1.)),
    # 16 Orchard: trees over grass.
    16: Perennial(0.35, 0.72, 105, 300, under={BROWN: 0.2, CANOPY: 0.1},
                  drought=0.1, gain=(0.96, 1., 1.), heterogeneity=0.14),
    # 17 Mixed cereal: an average cereal with more variability.
    17: AnnualCrop(ny(76), 0.92, ny(179), ny(202), emergence=60,
                   heterogeneity=0.13, **dict(_WINTER_CEREAL, timing_sd=9.)),
    # 18 Sorghum: the latest summer crop.
    18: AnnualCrop(ny(178), 0.82, ny(262), ny(290), green_width=9.,
                   sen_width=8., dry=0.55, stubble=0.1, pre_cover=0.3,
                   gain=(1.02, 1.02, 1.)),
    # Background (class 0) land covers.
    FOREST: Perennial(0.05, 0.82, 115, 300, under={BROWN: 0.5, CANOPY: 0.3},
                      gain=(0.88, 0.95, 1.), heterogeneity=0.18),
    CONIFER: Perennial(0.05, 0.12, 110, 290, under={CANOPY: 0.9},
                       gain=(0.85, 1., 1.), heterogeneity=0.15),
    URBAN_AREA: Perennial(0.08, 0.2, 95, 300, under={URBAN: 0.7, ROAD: 0.2},
                          heterogeneity=0.35, jitter=0.4),
    WATER_BODY: Perennial(0., 0.03, 120, 280, under={WATER: 0.95},
                          heterogeneity=0.05),
    GRASSLAND: Perennial(0.45, 0.72, 80, 305, under={DRY: 0.3, BROWN: 0.1},
                         drought=0.3, gain=(0.93, 1., 1.05),
                         heterogeneity=0.2, jitter=0.15),
    BARE: Perennial(0.03, 0.15, 120, 260, under={DRY: 0.1},
                    heterogeneity=0.2, jitter=0.5),
    HEDGE: Perennial(0.1, 0.75, 112, 300, under={BROWN: 0.4, CANOPY: 0.4},
                     gain=(0.9, 0.95, 1.), heterogeneity=0.2),
    TRACK: Perennial(0.05, 0.25, 100, 290, under={ROAD: 0.6, DRY: 0.2},
                     drought=0.1, heterogeneity=0.25),
}


def cover_fractions(kind: int, rng: np.random.Generator, n: int,
                    t: np.ndarray, doy: np.ndarray,
                    shift: float) -> np.ndarray:
    """Cover fractions (n, T, NUM_ENDMEMBERS) of ``n`` parcels of a kind.

    Args:
        kind (int): Crop class 1..18 or a background kind.
        rng (np.random.Generator): Random stream.
        n (int): Number of parcels.
        t (np.ndarray): (T,) season days.
        doy (np.ndarray): (T,) days of year.
        shift (float): Regional timing shift (days).
    """
    spec = COVERS[kind]
    if isinstance(spec, AnnualCrop):
        return annual_fractions(spec, rng, n, t, shift)
    if isinstance(spec, Perennial):
        return perennial_fractions(spec, rng, n, t, doy, shift)
    return vegetable_fractions(spec, rng, n, t, shift)


def cover_gain(kind: int) -> tuple:
    """(NIR, SWIR, visible) leaf gains of a kind."""
    return COVERS[kind].gain


def cover_heterogeneity(kind: int) -> float:
    """Within-parcel vigour variation of a kind."""
    return COVERS[kind].heterogeneity
