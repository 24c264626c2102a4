# Copyright (c) mmexact contributors. All rights reserved.
"""Endmember spectra and linear mixing (reflectance x 10000).

The ten bands follow PASTIS's order: B2, B3, B4, B5, B6, B7, B8, B8A, B11,
B12. The endmembers were calibrated against clear-sky pixels of real
PASTIS24 windows binned by NDVI (bare soil NDVI 0.1-0.2 has about
[830, 1200, 1640, 1750, 2030, 2170, 2250, 2370, 2920, 2350]; dense green
vegetation, NDVI > 0.9, about [70, 290, 90, 600, 2780, 3850, 4140, 4200,
1410, 640]).
"""
import numpy as np

from ...structures import S2_BANDS

__all__ = [
    'BANDS', 'ENDMEMBERS', 'NUM_ENDMEMBERS', 'SOIL', 'GREEN', 'DRY',
    'BROWN', 'FLOWER', 'WATER', 'URBAN', 'ROAD', 'CANOPY', 'CLOUD',
    'green_gain', 'mix_spectra'
]

BANDS = S2_BANDS

# Endmember indices (columns of a fraction array).
SOIL, GREEN, DRY, BROWN, FLOWER, WATER, URBAN, ROAD, CANOPY = range(9)
NUM_ENDMEMBERS = 9

ENDMEMBERS = np.array(
    [
        # bare soil (dry, mid brightness; darkened when wet)
        [880, 1240, 1680, 1880, 2120, 2240, 2330, 2440, 2980, 2380],
        # green leaves of a closed crop canopy
        [110, 350, 120, 650, 2850, 3950, 4300, 4420, 1580, 690],
        # straw / dry standing biomass (ripe cereals, stubble)
        [1050, 1350, 1650, 1950, 2350, 2550, 2750, 2900, 3350, 2550],
        # dark senescent biomass (sunflower heads, dry pods, haulms)
        [620, 860, 1080, 1330, 1800, 2050, 2200, 2300, 2750, 2050],
        # yellow flowers (rapeseed, sunflower)
        [480, 1150, 1250, 1750, 2750, 3300, 3500, 3600, 2150, 1250],
        # open water
        [430, 560, 390, 330, 260, 230, 200, 180, 90, 60],
        # built-up surfaces (roofs, concrete)
        [1050, 1200, 1320, 1500, 1750, 1850, 1950, 2050, 2350, 2050],
        # asphalt / tracks
        [760, 860, 960, 1060, 1220, 1310, 1380, 1430, 1620, 1420],
        # dark tree canopy (conifers, hedgerows)
        [170, 340, 190, 560, 1750, 2350, 2550, 2650, 1150, 470],
    ],
    dtype=np.float32)

CLOUD = np.array([4500, 4520, 4650, 4750, 4950, 5050, 5100, 5150, 3900,
                  3050], dtype=np.float32)

# Bands B6, B7, B8, B8A (red edge / NIR) and B11, B12 (SWIR).
_NIR = np.array([0, 0, 0, 0.3, 1, 1, 1, 1, 0, 0], np.float32)
_SWIR = np.array([0, 0, 0, 0, 0, 0, 0, 0, 1, 1], np.float32)
_VIS = np.array([1, 1, 1, 0.5, 0, 0, 0, 0, 0, 0], np.float32)


def green_gain(nir: float = 1., swir: float = 1., vis: float = 1.
               ) -> np.ndarray:
    """Per-band multiplier of the green endmember (leaf structure).

    Args:
        nir (float): Gain of the red-edge / NIR bands (leaf structure:
            broadleaves above 1, grasses and vines below).
        swir (float): Gain of B11 / B12 (leaf water).
        vis (float): Gain of the visible bands (pigments).

    Returns:
        np.ndarray: float32 (10,) multipliers.
    """
    return (1 + (nir - 1) * _NIR + (swir - 1) * _SWIR +
            (vis - 1) * _VIS).astype(np.float32)


def mix_spectra(frac: np.ndarray, gain: np.ndarray, soil_scale: np.ndarray,
                wetness: np.ndarray) -> np.ndarray:
    """Linear mixture of endmembers, one spectrum per parcel and date.

    Args:
        frac (np.ndarray): (P, T, NUM_ENDMEMBERS) cover fractions.
        gain (np.ndarray): (P, 10) gain of the green endmember per parcel.
        soil_scale (np.ndarray): (P,) soil brightness of each parcel.
        wetness (np.ndarray): (T,) soil darkening factor of each date
            (1 = dry soil).

    Returns:
        np.ndarray: float32 (P, T, 10) reflectance x 10000.
    """
    frac = frac.astype(np.float32)
    out = frac @ ENDMEMBERS
    out += frac[:, :, GREEN, None] * (ENDMEMBERS[GREEN] *
                                     (gain[:, None, :] - 1))
    soil = soil_scale[:, None] * wetness[None, :] - 1
    out += (frac[:, :, SOIL] * soil)[:, :, None] * ENDMEMBERS[SOIL]
    return out
