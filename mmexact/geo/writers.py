# Copyright (c) mmexact contributors. All rights reserved.
"""Block-by-block GeoTIFF writing into Cloud Optimized GeoTIFFs."""
import json
import os
import os.path as osp
from typing import Dict, Optional, Sequence
from xml.sax.saxutils import escape

import numpy as np
import rasterio
from rasterio.shutil import copy as raster_copy

__all__ = ['GeoTIFFBlockWriter', 'class_tags', 'write_category_names']


class GeoTIFFBlockWriter:
    """Write a raster block by block, then convert it to a COG.

    Blocks go into a tiled temporary GTiff beside ``path``; :meth:`close`
    copies it with GDAL's COG driver (internal tiles, overviews, the
    compression) and removes it, so memory never holds the whole raster.
    The colour table, band descriptions and tags are kept.

    Args:
        path (str): Output ``.tif``.
        profile (dict): ``crs``, ``transform``, ``width``, ``height``.
        count (int): Bands.
        dtype (str): Data type, e.g. ``'uint8'``.
        nodata (float, optional): No-data value.
        colormap (dict, optional): Band 1 colour table {value: (r, g, b)}.
        descriptions (Sequence[str], optional): Band descriptions.
        tags (dict, optional): Dataset metadata.
        band_tags (dict, optional): Band 1 metadata.
        scales (Sequence[float], optional): GDAL scale of each band
            (value = stored x scale).
        resampling (str): Overview resampling (``'NEAREST'`` for classes,
            ``'AVERAGE'`` for scores).
        compress (str): COG compression. Defaults to ``'DEFLATE'``.
        blocksize (int): COG tile size. Defaults to 512.
    """

    def __init__(self,
                 path: str,
                 profile: dict,
                 count: int,
                 dtype: str,
                 nodata: Optional[float] = None,
                 colormap: Optional[Dict[int, Sequence[int]]] = None,
                 descriptions: Optional[Sequence[str]] = None,
                 tags: Optional[dict] = None,
                 band_tags: Optional[dict] = None,
                 scales: Optional[Sequence[float]] = None,
                 resampling: str = 'NEAREST',
                 compress: str = 'DEFLATE',
                 blocksize: int = 512) -> None:
        self.path = path
        self.tmp = osp.join(osp.dirname(osp.abspath(path)),
                            '.' + osp.basename(path) + '.part.tif')
        self.resampling = resampling
        self.compress = compress
        self.blocksize = blocksize
        self.dtype = np.dtype(dtype)
        self._ds = rasterio.open(
            self.tmp, 'w', driver='GTiff', width=profile['width'],
            height=profile['height'], count=count, dtype=dtype,
            crs=profile['crs'], transform=profile['transform'],
            nodata=nodata, tiled=True, blockxsize=256, blockysize=256,
            compress='DEFLATE', zlevel=1, BIGTIFF='IF_SAFER')
        if colormap:
            self._ds.write_colormap(
                1, {int(k): tuple(int(c) for c in v[:3]) + (255, )
                    for k, v in colormap.items()})
        for k, desc in enumerate(descriptions or [], 1):
            self._ds.set_band_description(k, str(desc))
        if tags:
            self._ds.update_tags(**{k: str(v) for k, v in tags.items()})
        if band_tags:
            self._ds.update_tags(1, **{k: str(v)
                                       for k, v in band_tags.items()})
        if scales is not None:
            self._ds.scales = tuple(float(v) for v in scales)

    def write(self, data: np.ndarray, y0: int, x0: int) -> None:
        """Write (count, h, w) or (h, w) ``data`` at row ``y0``, col ``x0``.
        """
        data = np.asarray(data)
        if data.ndim == 2:
            data = data[None]
        window = rasterio.windows.Window(x0, y0, data.shape[2],
                                         data.shape[1])
        self._ds.write(data.astype(self.dtype, copy=False), window=window)

    def close(self) -> str:
        """Finish: COG at ``path``; returns the path."""
        self._ds.close()
        raster_copy(self.tmp, self.path, driver='COG',
                    compress=self.compress, blocksize=self.blocksize,
                    overview_resampling=self.resampling,
                    bigtiff='IF_SAFER')
        os.remove(self.tmp)
        return self.path

    def abort(self) -> None:
        """Drop the partial output."""
        if not self._ds.closed:
            self._ds.close()
        if osp.exists(self.tmp):
            os.remove(self.tmp)


def write_category_names(path: str, names: Sequence[str]) -> str:
    """Write GDAL's ``<path>.aux.xml`` with the band-1 category names.

    GTiff keeps category names (the labels GIS software shows for each
    class value) in this PAM side-car; GDAL, QGIS and ArcGIS read it.

    Returns:
        str: The side-car path.
    """
    items = ''.join(f'      <Category>{escape(str(n))}</Category>\n'
                    for n in names)
    xml = ('<PAMDataset>\n  <PAMRasterBand band="1">\n'
           f'    <CategoryNames>\n{items}    </CategoryNames>\n'
           '  </PAMRasterBand>\n</PAMDataset>\n')
    out = path + '.aux.xml'
    with open(out, 'w', encoding='utf-8') as f:
        f.write(xml)
    return out


def class_tags(classes: Sequence[str]) -> dict:
    """Dataset tags naming the classes (``CLASS_NAMES`` JSON + one per
    value)."""
    tags = {'CLASS_NAMES': json.dumps(list(classes))}
    tags.update({f'CLASS_{k}': name for k, name in enumerate(classes)})
    return tags
