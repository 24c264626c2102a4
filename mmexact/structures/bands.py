# Copyright (c) mmexact contributors. All rights reserved.
"""Sentinel-2 band names, the band orders of the datasets and the no-data
value of the model inputs (shared by readers, inference and geo I/O)."""
import re
from typing import Optional

__all__ = ['MTLCC_BANDS', 'NODATA', 'S2_BANDS', 'canonical_band']

#: No-data value of the model inputs (PASTIS: every band of a missing
#: pixel is -10000, in reflectance x 10000 units).
NODATA = -10000.

#: Sentinel-2 band order of PASTIS (axis 1 of DATA_S2 arrays).
S2_BANDS = ('B2', 'B3', 'B4', 'B5', 'B6', 'B7', 'B8', 'B8A', 'B11', 'B12')

#: Band order of MTLCC samples (axis 1): the x10, x20 and x60 groups, as
#: stored.
MTLCC_BANDS = ('B04', 'B03', 'B02', 'B08', 'B05', 'B06', 'B07', 'B8A',
               'B11', 'B12', 'B01', 'B09', 'B10')

# Sentinel-2 band aliases (STAC "eo" common names) -> band names.
_ALIASES = {
    'coastal': 'B1', 'blue': 'B2', 'green': 'B3', 'red': 'B4',
    'rededge1': 'B5', 'rededge2': 'B6', 'rededge3': 'B7', 'nir': 'B8',
    'nir08': 'B8A', 'nir09': 'B9', 'cirrus': 'B10', 'swir16': 'B11',
    'swir22': 'B12'
}


def canonical_band(name: str) -> Optional[str]:
    """Canonical Sentinel-2 band name (``'B2'``, ``'B8A'``, ``'B11'``).

    Accepts ``B2`` / ``B02`` / ``b02`` / ``S2_B02`` / ``B02_10m`` and the
    STAC common names (``red``, ``nir``, ``swir16`` ...).

    Args:
        name (str): A band name or description.

    Returns:
        str | None: The canonical name, or None when ``name`` names no
        Sentinel-2 band.
    """
    text = str(name).strip()
    low = text.lower().replace('-', '').replace(' ', '')
    if low in _ALIASES:
        return _ALIASES[low]
    match = re.search(r'(?:^|[^a-z0-9])b0?(\d{1,2})(a?)(?![0-9])',
                      '_' + low)
    if match is None:
        return None
    num, suffix = int(match.group(1)), match.group(2)
    if not 1 <= num <= 12 or (suffix and num != 8):
        return None
    return f'B{num}{suffix.upper()}'
