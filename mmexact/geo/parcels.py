# Copyright (c) mmexact contributors. All rights reserved.
"""Per-parcel crop labels from streamed class maps and scores."""
from collections import Counter
from typing import Optional, Sequence

import numpy as np
from rasterio.features import rasterize
from rasterio.transform import array_bounds
from rasterio.windows import Window
from rasterio.windows import transform as window_transform

from ..structures import SITSDataError

__all__ = ['PARCEL_RULES', 'PARCEL_COLUMNS', 'ParcelAggregator']

#: ``majority``: the most frequent class of the parcel's pixels, confidence
#: its share of them; ``mean_score``: the class of highest mean score,
#: confidence that mean.
PARCEL_RULES = ('majority', 'mean_score')
#: Columns added to the parcels.
PARCEL_COLUMNS = ('pred_class', 'pred_name', 'pred_conf', 'pred_pixels',
                  'pred_cover', 'pred_status')


class ParcelAggregator:
    """Label parcels (polygons in any CRS) from blocks of a class map.

    Parcels are reprojected to the raster CRS; a pixel belongs to a parcel
    when its centre lies inside it (the last parcel wins where parcels
    overlap). Blocks are added one by one (any order, each pixel once), so
    the scene is never held in memory. :meth:`result` keeps every input
    feature and attribute and adds :data:`PARCEL_COLUMNS`:

    - ``pred_class`` / ``pred_name``: the label (empty when none);
    - ``pred_conf``: the confidence (see :data:`PARCEL_RULES`);
    - ``pred_pixels``: pixels with data inside the parcel;
    - ``pred_cover``: mapped pixel area / parcel area (about 1 for a
      parcel fully inside the scene);
    - ``pred_status``: ``ok``; ``partly_outside`` (labelled from its part
      in the scene); ``outside_scene``; ``no_pixel`` (no pixel centre
      inside: smaller or thinner than a pixel); ``no_data`` (every
      pixel is no-data); ``no_geometry``.

    Args:
        path (str): GeoPackage / GeoJSON / Shapefile of polygons.
        profile (dict): Raster ``crs``, ``transform``, ``width``,
            ``height``.
        classes (Sequence[str]): Class names by value.
        rule (str): One of :data:`PARCEL_RULES`.
        layer (str, optional): Layer of a multi-layer file.
    """

    def __init__(self,
                 path: str,
                 profile: dict,
                 classes: Sequence[str],
                 rule: str = 'majority',
                 layer: Optional[str] = None) -> None:
        import geopandas as gpd
        import shapely
        if rule not in PARCEL_RULES:
            raise ValueError(f'parcel rule must be one of {PARCEL_RULES}')
        self.path, self.rule = path, rule
        self.classes = list(classes)
        self.profile = profile
        try:
            gdf = gpd.read_file(path, layer=layer)
        except Exception as exc:  # pyogrio raises several types
            raise SITSDataError(f'{path}: cannot read the parcels '
                                f'({exc})') from None
        if len(gdf) == 0:
            raise SITSDataError(f'{path}: no parcels in the file')
        if gdf.crs is None:
            raise SITSDataError(f'{path}: the parcels have no CRS; set one '
                                '(e.g. ogr2ogr -a_srs EPSG:2154)')
        clash = [c for c in PARCEL_COLUMNS if c in gdf.columns]
        if clash:
            raise SITSDataError(f'{path}: the parcels already have column(s)'
                                f' {clash}; rename them')
        geom = gdf.geometry
        types = set(geom[~(geom.isna() | geom.is_empty)].geom_type)
        bad = types - {'Polygon', 'MultiPolygon'}
        if bad:
            raise SITSDataError(f'{path}: parcels must be polygons, found '
                                f'{sorted(bad)}')
        self.gdf = gdf
        local = gdf.to_crs(profile['crs']).geometry.values
        empty = np.asarray(shapely.is_missing(local) |
                           shapely.is_empty(local))
        invalid = ~empty & ~np.asarray(shapely.is_valid(local))
        if invalid.any():
            local[invalid] = shapely.make_valid(local[invalid])
        self.geoms = local
        self.empty = empty
        self.tree = shapely.STRtree(np.where(empty, None, local))
        n, k = len(gdf), len(self.classes)
        self.counts = np.zeros((n, k), np.int64)
        self.score_sum = np.zeros((n, k), np.float64)
        self.pixels = np.zeros(n, np.int64)  # centres inside the scene
        self.valid = np.zeros(n, np.int64)  # ... with data
        bounds = array_bounds(profile['height'], profile['width'],
                              profile['transform'])
        self.scene = shapely.box(*bounds)
        self.area = np.asarray(shapely.area(local), np.float64)

    def add(self, y0: int, x0: int, pred: np.ndarray, valid: np.ndarray,
            scores: Optional[np.ndarray] = None) -> None:
        """Add a block of the class map.

        Args:
            y0, x0 (int): Block offset in the raster.
            pred (np.ndarray): (h, w) class values.
            valid (np.ndarray): (h, w) bool, pixel has data.
            scores (np.ndarray, optional): (K, h, w) class scores (needed by
                ``mean_score``).
        """
        import shapely
        h, w = pred.shape
        tr = window_transform(Window(x0, y0, w, h), self.profile['transform'])
        box = shapely.box(*array_bounds(h, w, tr))
        cand = np.sort(self.tree.query(box, predicate='intersects'))
        if cand.size == 0:
            return
        ids = rasterize(((self.geoms[i], n + 1) for n, i in enumerate(cand)),
                        out_shape=(h, w), transform=tr, fill=0,
                        dtype='int32', all_touched=False)
        inside = ids > 0
        if not inside.any():
            return
        m = len(cand)
        local = ids[inside] - 1
        self.pixels[cand] += np.bincount(local, minlength=m)
        ok = inside & valid
        lv = ids[ok] - 1
        k = len(self.classes)
        self.valid[cand] += np.bincount(lv, minlength=m)
        cls = pred[ok].astype(np.int64)
        self.counts[cand] += np.bincount(lv * k + cls, minlength=m * k
                                         ).reshape(m, k)
        if scores is not None:
            for c in range(k):
                self.score_sum[cand, c] += np.bincount(
                    lv, weights=scores[c][ok], minlength=m)
        elif self.rule == 'mean_score':
            raise ValueError('the mean_score rule needs the scores')

    def result(self):
        """The parcels with the prediction columns (a GeoDataFrame)."""
        import pandas as pd
        import shapely
        n = len(self.gdf)
        status = np.full(n, 'ok', object)
        inter = shapely.intersects(self.geoms, self.scene)
        within = shapely.within(self.geoms, self.scene)
        status[~within] = 'partly_outside'
        status[~inter] = 'outside_scene'
        status[(self.pixels == 0) & inter] = 'no_pixel'
        status[(self.pixels > 0) & (self.valid == 0)] = 'no_data'
        status[self.empty] = 'no_geometry'
        labelled = self.valid > 0
        if self.rule == 'majority':
            label = self.counts.argmax(axis=1)
            conf = self.counts[np.arange(n), label] / np.maximum(
                self.valid, 1)
        else:
            mean = self.score_sum / np.maximum(self.valid, 1)[:, None]
            label = mean.argmax(axis=1)
            conf = mean[np.arange(n), label]
        res = self.gdf.copy()
        res['pred_class'] = pd.array(
            np.where(labelled, label, 0), dtype='Int64')
        res.loc[~labelled, 'pred_class'] = pd.NA
        res['pred_name'] = [self.classes[c] if ok else None
                            for c, ok in zip(label, labelled)]
        res['pred_conf'] = np.where(labelled, conf, np.nan)
        res['pred_pixels'] = self.valid
        pix = abs(self.profile['transform'].a * self.profile['transform'].e)
        res['pred_cover'] = np.where(
            self.area > 0, self.pixels * pix / np.maximum(self.area, 1e-12),
            np.nan)
        res['pred_status'] = status
        return res

    def write(self, out: str) -> dict:
        """Write the labelled parcels (GeoPackage, layer ``parcels``, the
        input CRS) and return a summary: count per status and the first
        ids of parcels not labelled."""
        res = self.result()
        res.to_file(out, driver='GPKG', layer='parcels')
        statuses = Counter(res['pred_status'])
        not_labelled = res.index[res['pred_class'].isna()].tolist()
        return dict(path=out, rule=self.rule, total=len(res),
                    status=dict(statuses),
                    not_labelled_rows=not_labelled[:20])
