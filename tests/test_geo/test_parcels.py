# Copyright (c) mmexact contributors. All rights reserved.
"""Per-parcel labels on a hand-made 10 x 10 class map."""
import geopandas as gpd
import numpy as np
import pytest
from rasterio.crs import CRS
from rasterio.transform import from_origin
from shapely.geometry import box

from mmexact.geo import ParcelAggregator
from mmexact.structures import SITSDataError

X0, Y0 = 570000., 4830000.  # EPSG:32631, 10 m pixels
PROFILE = dict(crs=CRS.from_epsg(32631), transform=from_origin(X0, Y0, 10,
                                                               10),
               width=10, height=10)
CLASSES = ['background', 'c1', 'c2', 'c3', 'c4', 'c5']


def _cells(r0, r1, c0, c1):
    """Polygon covering pixel rows r0..r1-1 and columns c0..c1-1."""
    return box(X0 + 10 * c0, Y0 - 10 * r1, X0 + 10 * c1, Y0 - 10 * r0)


def _maps():
    pred = np.zeros((10, 10), np.uint8)
    valid = np.ones((10, 10), bool)
    scores = np.full((6, 10, 10), 0.02, np.float32)
    pred[1:3, 1:5] = 2  # parcel A: 8 pixels of class 2 ...
    pred[3, 1:5] = 5  # ... and 4 of class 5
    scores[2, 1:3, 1:5], scores[5, 1:3, 1:5] = 0.6, 0.3
    scores[2, 3, 1:5], scores[5, 3, 1:5] = 0.05, 0.9
    pred[6:8, 6:9] = 1  # parcel B, one pixel without data
    valid[6, 6] = False
    pred[0:2, 8:10] = 3  # parcel D (half outside the scene)
    valid[9, 0:2] = False  # parcel F: no data at all
    return pred, valid, scores


def _parcels(path, crs):
    gdf = gpd.GeoDataFrame(
        dict(parcel_id=['A', 'B', 'C', 'D', 'E', 'F'],
             farmer=['x', 'y', 'z', 'x', 'y', 'z']),
        geometry=[
            _cells(1, 4, 1, 5),
            _cells(6, 8, 6, 9),
            box(X0 + 1000, Y0 - 50, X0 + 1040, Y0 - 10),  # outside
            _cells(0, 2, 8, 12),  # columns 10, 11 are outside
            box(X0 + 51, Y0 - 59, X0 + 53, Y0 - 57),  # no pixel centre
            _cells(9, 10, 0, 2),
        ],
        crs='EPSG:32631').to_crs(crs)
    gdf.to_file(path, driver='GPKG')
    return path


@pytest.mark.parametrize('crs', ['EPSG:32631', 'EPSG:4326', 'EPSG:2154'])
def test_parcel_labels_by_hand(tmp_path, crs):
    """Parcels in the raster CRS, in WGS 84 and in Lambert-93 give the same
    labels (reprojected to the raster); blocks split parcel A."""
    path = _parcels(str(tmp_path / 'parcels.gpkg'), crs)
    pred, valid, scores = _maps()
    res = {}
    for rule in ('majority', 'mean_score'):
        agg = ParcelAggregator(path, PROFILE, CLASSES, rule)
        agg.add(0, 0, pred[:, :3], valid[:, :3], scores[:, :, :3])
        agg.add(0, 3, pred[:, 3:], valid[:, 3:], scores[:, :, 3:])
        res[rule] = agg.result().set_index('parcel_id')
    maj, mean = res['majority'], res['mean_score']
    assert maj.loc['A', 'pred_class'] == 2  # 8 of 12 pixels
    assert maj.loc['A', 'pred_name'] == 'c2'
    assert maj.loc['A', 'pred_conf'] == pytest.approx(8 / 12)
    # mean scores: c2 (8 * 0.6 + 4 * 0.05) / 12 = 0.4167 < c5 (8 * 0.3 +
    # 4 * 0.9) / 12 = 0.5
    assert mean.loc['A', 'pred_class'] == 5
    assert mean.loc['A', 'pred_conf'] == pytest.approx(0.5, abs=1e-6)
    assert maj.loc['A', 'pred_pixels'] == 12
    assert maj.loc['A', 'pred_cover'] == pytest.approx(1.0, abs=1e-6)
    assert maj.loc['A', 'pred_status'] == 'ok'
    assert maj.loc['B', 'pred_class'] == 1
    assert maj.loc['B', 'pred_conf'] == 1.0
    assert maj.loc['B', 'pred_pixels'] == 5  # one pixel without data
    assert maj.loc['C', 'pred_status'] == 'outside_scene'
    assert maj['pred_class'].isna()['C'] and np.isnan(maj.loc['C',
                                                             'pred_conf'])
    assert maj.loc['D', 'pred_status'] == 'partly_outside'
    assert maj.loc['D', 'pred_class'] == 3
    assert maj.loc['D', 'pred_pixels'] == 4
    assert maj.loc['D', 'pred_cover'] == pytest.approx(0.5, abs=1e-6)
    assert maj.loc['E', 'pred_status'] == 'no_pixel'
    assert maj.loc['F', 'pred_status'] == 'no_data'
    assert maj.loc['F', 'pred_pixels'] == 0
    assert list(maj['farmer']) == ['x', 'y', 'z', 'x', 'y', 'z']


def test_written_geopackage_keeps_attributes_and_crs(tmp_path):
    path = _parcels(str(tmp_path / 'in.gpkg'), 'EPSG:4326')
    pred, valid, scores = _maps()
    agg = ParcelAggregator(path, PROFILE, CLASSES)
    agg.add(0, 0, pred, valid)
    summary = agg.write(str(tmp_path / 'out.gpkg'))
    assert summary['status'] == dict(ok=2, outside_scene=1,
                                     partly_outside=1, no_pixel=1,
                                     no_data=1)
    assert summary['not_labelled_rows'] == [2, 4, 5]
    out = gpd.read_file(str(tmp_path / 'out.gpkg'), layer='parcels')
    assert out.crs == 'EPSG:4326' and len(out) == 6
    assert list(out['parcel_id']) == list('ABCDEF')
    assert out['pred_class'].tolist()[:2] == [2, 1]
    assert out['pred_class'].isna().tolist() == [False, False, True, False,
                                                 True, True]


def test_parcel_errors(tmp_path):
    gdf = gpd.GeoDataFrame(dict(a=[1]), geometry=[box(0, 0, 1, 1)])
    gdf.to_file(str(tmp_path / 'nocrs.gpkg'), driver='GPKG')
    with pytest.raises(SITSDataError, match=r'nocrs\.gpkg: the parcels have'
                       ' no CRS'):
        ParcelAggregator(str(tmp_path / 'nocrs.gpkg'), PROFILE, CLASSES)
    pts = gdf.set_crs('EPSG:32631')
    pts['geometry'] = pts.centroid
    pts.to_file(str(tmp_path / 'points.gpkg'), driver='GPKG')
    with pytest.raises(SITSDataError, match=r"points\.gpkg: parcels must be "
                       r"polygons, found \['Point'\]"):
        ParcelAggregator(str(tmp_path / 'points.gpkg'), PROFILE, CLASSES)
    clash = gdf.set_crs('EPSG:32631').assign(pred_class=1)
    clash.to_file(str(tmp_path / 'clash.gpkg'), driver='GPKG')
    with pytest.raises(SITSDataError, match=r"clash\.gpkg: the parcels "
                       r"already have column\(s\) \['pred_class'\]"):
        ParcelAggregator(str(tmp_path / 'clash.gpkg'), PROFILE, CLASSES)
    with pytest.raises(SITSDataError, match=r'missing\.gpkg: cannot read'):
        ParcelAggregator(str(tmp_path / 'missing.gpkg'), PROFILE, CLASSES)
