# Copyright (c) mmexact contributors. All rights reserved.
"""Small georeferenced Sentinel-2 time series for tests (needs rasterio)."""
import datetime
import os
import os.path as osp
from typing import Optional, Sequence

import numpy as np
import rasterio
from rasterio.transform import from_origin

__all__ = ['S2_DESCRIPTIONS', 'UTM31_ORIGIN', 'write_geotiff', 'write_series']

#: PASTIS band order as L2A band descriptions.
S2_DESCRIPTIONS = ('B02', 'B03', 'B04', 'B05', 'B06', 'B07', 'B08', 'B8A',
                   'B11', 'B12')
#: Upper-left corner of the test scenes in EPSG:32631 (near Montpellier).
UTM31_ORIGIN = (570000., 4830000.)


def write_geotiff(path: str,
                  data: np.ndarray,
                  crs: str = 'EPSG:32631',
                  transform=None,
                  descriptions: Optional[Sequence[str]] = None,
                  nodata: Optional[float] = None,
                  dtype: Optional[str] = None) -> str:
    """Write (C, H, W) ``data`` as a tiled GeoTIFF; returns ``path``."""
    data = np.asarray(data)
    if data.ndim == 2:
        data = data[None]
    if transform is None:
        transform = from_origin(*UTM31_ORIGIN, 10., 10.)
    kw = dict(driver='GTiff', width=data.shape[2], height=data.shape[1],
              count=data.shape[0], dtype=dtype or data.dtype.name,
              crs=crs, transform=transform, nodata=nodata)
    if data.shape[1] % 16 == 0 and data.shape[2] % 16 == 0:
        kw.update(tiled=True, blockxsize=16, blockysize=16)
    with rasterio.open(path, 'w', **kw) as ds:
        ds.write(data.astype(kw['dtype'], copy=False))
        for k, desc in enumerate(descriptions or [], 1):
            ds.set_band_description(k, desc)
    return path


def write_series(folder: str,
                 img: np.ndarray,
                 dates: Sequence[datetime.date],
                 masks: Optional[np.ndarray] = None,
                 mask_suffix: str = '_SCL',
                 descriptions: Sequence[str] = S2_DESCRIPTIONS,
                 **kwargs) -> list:
    """One ``S2_<YYYYMMDD>.tif`` per date (and ``..._SCL.tif`` masks).

    Args:
        folder (str): Output folder (created).
        img (np.ndarray): (T, C, H, W) values.
        dates (Sequence[datetime.date]): (T,) dates.
        masks (np.ndarray, optional): (T, H, W) uint8 masks.
        mask_suffix (str): Name suffix of the masks.
        descriptions (Sequence[str]): Band descriptions.
        **kwargs: :func:`write_geotiff` options.

    Returns:
        list[str]: The image paths.
    """
    os.makedirs(folder, exist_ok=True)
    paths = []
    for t, d in enumerate(dates):
        stem = f'S2_{d:%Y%m%d}'
        paths.append(write_geotiff(osp.join(folder, stem + '.tif'), img[t],
                                   descriptions=descriptions, **kwargs))
        if masks is not None:
            mkw = {k: v for k, v in kwargs.items()
                   if k in ('crs', 'transform')}
            write_geotiff(osp.join(folder, stem + mask_suffix + '.tif'),
                          masks[t].astype(np.uint8), **mkw)
    return paths
