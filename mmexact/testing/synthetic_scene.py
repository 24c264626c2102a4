# Copyright (c) mmexact contributors. All rights reserved.
"""A synthetic georeferenced Sentinel-2 scene (per-date GeoTIFFs, ground
truth, parcels) rendered by the synthetic PASTIS generator."""
import json
import os
import os.path as osp
from typing import Optional, Sequence, Tuple

import numpy as np
import rasterio
from rasterio.features import shapes
from rasterio.transform import from_origin

from ..datasets.pastis_meta import PASTIS_CLASSES
from ..structures import S2_BANDS
from .synthetic import SyntheticPASTISConfig
from .synthetic.calendar import make_tile_calendar
from .synthetic.regions import region_of_tile
from .synthetic.render import render_patch

__all__ = ['write_synthetic_scene']

_DESCRIPTIONS = tuple(f'B{b[1:]:0>2}' if b[1:].isdigit() else b
                      for b in S2_BANDS)  # B02 ... B8A, B11, B12


def write_synthetic_scene(out_dir: str,
                          size: int = 256,
                          seed: int = 0,
                          crs: str = 'EPSG:32631',
                          origin: Tuple[float, float] = (600000., 4850000.),
                          seq_len: Tuple[int, int] = (20, 28),
                          crop_classes: Optional[Sequence[int]] = None,
                          year: int = 2018,
                          tile: int = 0,
                          parcels_crs: Optional[str] = 'EPSG:4326') -> dict:
    """Render one synthetic scene and write it as per-date GeoTIFFs.

    The scene is one patch of :mod:`mmexact.testing.synthetic` (parcel
    layout, phenology, clouds, no-data) of ``size`` x ``size`` 10 m
    pixels, written as ``s2/S2_<YYYYMMDD>.tif`` (int16, reflectance x 10000,
    band descriptions ``B02`` ... ``B12`` in PASTIS order, nodata -10000)
    on a north-up grid at ``origin`` (upper-left corner) in ``crs``;
    ``labels.tif`` holds the ground truth (PASTIS classes, 255 void), and
    ``parcels.gpkg`` the declared parcels (``parcel_id``, ``true_class``,
    ``true_name``) in ``parcels_crs`` (None: not written).

    Args:
        out_dir (str): Output folder (created).
        size (int): Scene side in pixels (>= 24).
        seed (int): Random seed; same options, same files.
        crs (str): Projected CRS of the rasters.
        origin (tuple[float, float]): Upper-left corner (x, y) in ``crs``.
        seq_len (tuple[int, int]): Range of the number of dates.
        crop_classes (Sequence[int], optional): Restrict the crops.
        year (int): Season start (September ``year`` to October
            ``year + 1``).
        tile (int): Regional crop mix (0..3, see the generator).
        parcels_crs (str, optional): CRS of ``parcels.gpkg``.

    Returns:
        dict: ``image_dir`` (the input of ``tools/infer.py``), ``images``
        (paths), ``dates`` (ISO strings), ``labels``,
        ``parcels``, ``crs``, ``transform``, ``size``.
    """
    cfg = SyntheticPASTISConfig(
        num_patches=1, size=size, seed=seed, seq_len=tuple(seq_len),
        crop_classes=crop_classes, year=year)
    seq = np.random.SeedSequence(seed, spawn_key=(11, tile))
    rng_tile, rng_patch, rng_sun = (np.random.default_rng(s)
                                    for s in seq.spawn(3))
    calendar = make_tile_calendar(rng_tile, cfg)
    angle = rng_sun.uniform(0, 2 * np.pi)
    out = render_patch(rng_patch, cfg, calendar, region_of_tile(tile),
                       np.array([np.sin(angle), np.cos(angle)]))
    image_dir = osp.join(out_dir, 's2')
    os.makedirs(image_dir, exist_ok=True)
    transform = from_origin(origin[0], origin[1], 10., 10.)
    common = dict(driver='GTiff', width=size, height=size, crs=crs,
                  transform=transform, tiled=True, blockxsize=128,
                  blockysize=128, compress='DEFLATE')
    images, dates = [], []
    for t, d in enumerate(out['dates']):
        d = str(d)
        iso = f'{d[:4]}-{d[4:6]}-{d[6:]}'
        path = osp.join(image_dir, f'S2_{d}.tif')
        with rasterio.open(path, 'w', count=len(S2_BANDS), dtype='int16',
                           nodata=-10000, **common) as ds:
            ds.write(out['img'][t])
            for k, name in enumerate(_DESCRIPTIONS, 1):
                ds.set_band_description(k, name)
            ds.update_tags(ACQUISITION_DATE=iso)
        images.append(path)
        dates.append(iso)
    label = out['target'][0].astype(np.uint8)
    label[label == 19] = 255
    labels = osp.join(out_dir, 'labels.tif')
    with rasterio.open(labels, 'w', count=1, dtype='uint8', nodata=255,
                       **common) as ds:
        ds.write(label, 1)
    parcels = None
    if parcels_crs is not None:
        parcels = osp.join(out_dir, 'parcels.gpkg')
        _write_parcels(parcels, out['target'], transform, crs, parcels_crs)
    meta = dict(image_dir=image_dir, images=images, dates=dates,
                labels=labels, parcels=parcels,
                crs=crs, transform=list(transform)[:6], size=size,
                seed=seed)
    with open(osp.join(out_dir, 'SCENE.json'), 'w') as f:
        json.dump(meta, f, indent=1)
    return meta


def _write_parcels(path: str, target: np.ndarray, transform, crs: str,
                   out_crs: str) -> None:
    """Polygons of the declared parcels (connected pixels of one parcel
    number and class)."""
    import geopandas as gpd
    from shapely.geometry import shape
    label, inst = target[0].astype(np.int32), target[1].astype(np.int32)
    key = np.where((label > 0) & (label < 19) & (inst > 0),
                   label * 256 + inst, 0).astype(np.int32)
    rows = []
    for geom, value in shapes(key, mask=key > 0, transform=transform):
        value = int(value)
        rows.append(dict(true_class=value // 256,
                         true_name=PASTIS_CLASSES[value // 256],
                         geometry=shape(geom)))
    gdf = gpd.GeoDataFrame(rows, geometry='geometry', crs=crs)
    gdf.insert(0, 'parcel_id', np.arange(1, len(gdf) + 1))
    if os.path.exists(path):
        os.remove(path)
    gdf.to_crs(out_crs).to_file(path, driver='GPKG', layer='parcels')
