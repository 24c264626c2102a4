# Copyright (c) mmexact contributors. All rights reserved.
"""Plain data definitions at the bottom of the package: band tables and
the SITS data error. Imports nothing from the rest of mmexact (and no
torch, model or registry code), so every layer may import it."""
from .bands import MTLCC_BANDS, NODATA, S2_BANDS, canonical_band
from .errors import SITSDataError

__all__ = [
    'MTLCC_BANDS', 'NODATA', 'S2_BANDS', 'SITSDataError', 'canonical_band'
]
