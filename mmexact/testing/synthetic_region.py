# Copyright (c) mmexact contributors. All rights reserved.
"""Weak labels of a synthetic scene (:func:`write_synthetic_scene`): a
nomenclature of its crop codes and a grid of cells listing their crops,
as a survey or a farm register without geometry would give them."""
import csv
import os.path as osp
from typing import Tuple

import numpy as np
import rasterio

from ..datasets.pastis_meta import PASTIS_CLASSES

__all__ = ['write_region_labels']


def write_region_labels(scene_meta: dict, cell: int = 24,
                        min_fraction: float = 0.01,
                        crs: str = 'EPSG:4326') -> Tuple[str, str]:
    """Write ``nomenclature.csv`` and ``cells.gpkg`` beside a synthetic
    scene.

    The nomenclature maps the crop codes (``true_class`` of the parcels,
    the PASTIS class numbers) to the PASTIS names of the crops that occur.
    The cells are a ``cell`` x ``cell`` pixel grid from the upper-left
    corner; each lists (``crops``, codes joined by ``;``) the crops that
    cover strictly more than ``min_fraction`` of it in the ground truth.

    Returns:
        tuple[str, str]: The nomenclature and the cells file.
    """
    import geopandas as gpd
    from shapely.geometry import box
    root = osp.dirname(scene_meta['labels'])
    with rasterio.open(scene_meta['labels']) as ds:
        truth, transform, scene_crs = ds.read(1), ds.transform, ds.crs
    crops = sorted(int(c) for c in np.unique(truth) if 0 < c < 19)
    nomenclature = osp.join(root, 'nomenclature.csv')
    with open(nomenclature, 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(['value', 'class'])
        for c in crops:
            w.writerow([c, PASTIS_CLASSES[c]])
    rows = []
    h, w_ = truth.shape
    for y0 in range(0, h - cell + 1, cell):
        for x0 in range(0, w_ - cell + 1, cell):
            part = truth[y0:y0 + cell, x0:x0 + cell]
            counts = np.bincount(part.ravel(), minlength=256)
            present = [c for c in crops
                       if counts[c] > min_fraction * part.size]
            xa, ya = transform * (x0, y0)
            xb, yb = transform * (x0 + cell, y0 + cell)
            rows.append(dict(crops=';'.join(map(str, present)),
                             geometry=box(min(xa, xb), min(ya, yb),
                                          max(xa, xb), max(ya, yb))))
    cells = osp.join(root, 'cells.gpkg')
    gpd.GeoDataFrame(rows, geometry='geometry', crs=scene_crs).to_crs(
        crs).to_file(cells, driver='GPKG', layer='cells')
    return nomenclature, cells
