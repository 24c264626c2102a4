# Copyright (c) mmexact contributors. All rights reserved.
"""An in-memory scene with the reading interface of
:class:`mmexact.geo.GeoTIFFScene`, for tests of own-region training sets."""
import datetime
from typing import Sequence

import numpy as np

__all__ = ['InMemoryScene']


class InMemoryScene:
    """A (T, C, H, W) array as a scene.

    Args:
        img (np.ndarray): Model-unit values (T, C, H, W), -10000 no-data.
        dates (Sequence[datetime.date]): One per frame.
        transform (affine.Affine): Pixel -> map coordinates.
        crs (str): The CRS.
        name (str): For messages.
    """

    def __init__(self, img: np.ndarray,
                 dates: Sequence[datetime.date], transform, crs: str,
                 name: str = 'in-memory scene') -> None:
        self.img = np.asarray(img, np.float32)
        self.dates = list(dates)
        self.doy = np.array([d.timetuple().tm_yday for d in self.dates])
        self.name = name
        self.num_bands = self.img.shape[1]
        self.height, self.width = self.img.shape[-2:]
        self.profile = dict(crs=crs, transform=transform,
                            height=self.height, width=self.width)

    def read(self, y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
        """Values of rows ``y0:y1``, columns ``x0:x1`` (T, C, h, w)."""
        return self.img[..., y0:y1, x0:x1]
