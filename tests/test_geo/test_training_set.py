# Copyright (c) mmexact contributors. All rights reserved.
"""Own-region training sets: nomenclature, parcels -> pixel and image
labels, image-label cells, the block split, band statistics and the
written layout, each checked against hand-computed values, and a clear
error or counted warning for each bad input."""
import csv
import datetime
import json
import os.path as osp

import numpy as np
import pytest
from rasterio.transform import from_origin
from shapely.geometry import box

from mmexact.geo.region_labels import (IGNORE, rasterize_cells,
                                       rasterize_parcels, read_nomenclature,
                                       read_vector)
from mmexact.geo.training_set import (BandStatistics, assign_blocks,
                                      read_block_file, window_grid,
                                      window_image_labels,
                                      write_training_set)
from mmexact.structures import NODATA, SITSDataError
from mmexact.testing.fake_region import InMemoryScene

gpd = pytest.importorskip('geopandas')

CRS = 'EPSG:32631'
#: 8 x 8 pixels of 10 m, upper-left corner at (600000, 4850080)
X0, Y0 = 600000., 4850080.
TRANSFORM = from_origin(X0, Y0, 10., 10.)


def _px_box(r0, c0, r1, c1):
    """Polygon of pixel rows r0..r1-1, columns c0..c1-1."""
    return box(X0 + 10 * c0, Y0 - 10 * r1, X0 + 10 * c1, Y0 - 10 * r0)


def _nomenclature(tmp_path, text='value,class\n11,wheat\n12,maize\n'
                  '13,wheat\n99,ignore\n'):
    path = tmp_path / 'nom.csv'
    path.write_text(text)
    return read_nomenclature(str(path))


def test_nomenclature_csv_and_yaml(tmp_path):
    nom = _nomenclature(tmp_path)
    assert nom.classes == ['background', 'wheat', 'maize']
    assert nom.value_to_class == {'11': 1, '12': 2, '13': 1, '99': IGNORE}
    assert nom.palette[0] == [0, 0, 0] and len(nom.palette) == 3
    y = tmp_path / 'nom.yaml'
    y.write_text('classes:\n  A1: rye\n  B2: beet\n  C3: ignore\n'
                 'colors:\n  beet: "#ff0010"\n')
    nom = read_nomenclature(str(y))
    assert nom.classes == ['background', 'rye', 'beet']
    assert nom.value_to_class == {'A1': 1, 'B2': 2, 'C3': IGNORE}
    assert nom.palette[2] == [255, 0, 16]
    with pytest.raises(SITSDataError, match='listed twice'):
        _nomenclature(tmp_path, 'value,class\n1,a\n1,b\n')
    with pytest.raises(SITSDataError, match='header'):
        _nomenclature(tmp_path, 'code,name\n1,a\n')
    with pytest.raises(SITSDataError, match='not found'):
        read_nomenclature(str(tmp_path / 'missing.csv'))


def _parcels(tmp_path, crs=CRS):
    rows = [
        dict(code=11, geometry=_px_box(0, 0, 4, 4)),  # wheat
        dict(code=12, geometry=_px_box(2, 2, 6, 6)),  # maize, overlaps
        dict(code=13, geometry=_px_box(6, 0, 8, 2)),  # wheat (2nd code)
        dict(code=77, geometry=_px_box(6, 6, 8, 8)),  # not in nomenclature
        dict(code=11, geometry=_px_box(20, 20, 22, 22)),  # outside
    ]
    gdf = gpd.GeoDataFrame(rows, geometry='geometry', crs=CRS)
    path = str(tmp_path / 'parcels.gpkg')
    gdf.to_crs(crs).to_file(path, driver='GPKG')
    return path


def _expected_labels():
    exp = np.zeros((8, 8), np.uint8)
    exp[0:4, 0:4] = 1
    exp[2:6, 2:6] = 2
    exp[2:4, 2:4] = IGNORE  # wheat and maize overlap
    exp[6:8, 0:2] = 1
    exp[6:8, 6:8] = IGNORE  # unmapped code 77
    return exp


@pytest.mark.parametrize('crs', [CRS, 'EPSG:4326'])
def test_parcels_to_pixel_labels_by_hand(tmp_path, crs):
    nom = _nomenclature(tmp_path)
    gdf = read_vector(_parcels(tmp_path, crs), None, ['code'], CRS,
                      'parcels')  # reprojected to the scene's CRS
    labels, rep = rasterize_parcels(gdf, 'code', nom, TRANSFORM, (8, 8))
    np.testing.assert_array_equal(labels, _expected_labels())
    assert rep['outside_scene'] == [4]
    assert rep['unmapped'] == {'77': 1}
    assert rep['conflict_pixels'] == 4
    ign, _ = rasterize_parcels(gdf, 'code', nom, TRANSFORM, (8, 8),
                               outside='ignore')
    exp = _expected_labels()
    exp[exp == 0] = IGNORE
    np.testing.assert_array_equal(ign, exp)
    with pytest.raises(SITSDataError, match="no column 'crop'"):
        read_vector(_parcels(tmp_path), None, ['crop'], CRS, 'parcels')


def test_same_class_overlap_is_no_conflict(tmp_path):
    nom = _nomenclature(tmp_path)
    gdf = gpd.GeoDataFrame(
        [dict(code=11, geometry=_px_box(0, 0, 4, 4)),
         dict(code=13, geometry=_px_box(2, 2, 6, 6))],  # both wheat
        geometry='geometry', crs=CRS)
    labels, rep = rasterize_parcels(gdf, 'code', nom, TRANSFORM, (8, 8))
    assert rep['conflict_pixels'] == 0
    assert (labels[0:6, 0:6] == 1).sum() == 16 + 16 - 4


def test_cells_to_image_labels(tmp_path):
    nom = _nomenclature(tmp_path)
    gdf = gpd.GeoDataFrame(
        [dict(crops='11;12', geometry=_px_box(0, 0, 4, 4)),
         dict(crops='13;55', geometry=_px_box(0, 4, 4, 8)),  # 55 unknown
         dict(crops='', geometry=_px_box(4, 0, 8, 4))],
        geometry='geometry', crs=CRS)
    cells, vecs, rep = rasterize_cells(gdf, 'crops', nom, TRANSFORM, (8, 8))
    assert [v.tolist() for v in vecs] == [[1, 1], [1, 0], [0, 0]]
    assert rep['unmapped'] == {'55': 1} and rep['empty'] == [2]
    assert cells[0, 0] == 1 and cells[0, 7] == 2 and cells[7, 7] == 0
    # one cell, two cells (union), a window partly in no cell
    assert window_image_labels(cells[:4, :4], vecs, 2).tolist() == [1, 1]
    assert window_image_labels(cells[:4, 2:6], vecs, 2).tolist() == [1, 1]
    assert window_image_labels(cells[4:8, 0:4], vecs, 2).tolist() == [0, 0]
    assert window_image_labels(cells[4:8, 2:6], vecs, 2) is None


def test_window_grid_never_crosses_blocks():
    grid = window_grid(20, 20, window=4, stride=3, block=8)
    assert grid, 'no window'
    for y0, x0, br, bc in grid:
        assert y0 // 8 == br == (y0 + 3) // 8
        assert x0 // 8 == bc == (x0 + 3) // 8
    # starts 0,3,6,9,12,15 -> windows 6..9 and 15..18 cross block borders
    assert sorted({y for y, *_ in grid}) == [0, 3, 9, 12]
    with pytest.raises(ValueError, match='smaller than the window'):
        window_grid(20, 20, window=4, stride=4, block=2)


def test_block_split_and_block_file(tmp_path):
    blocks = [(r, c) for r in range(3) for c in range(3)]
    split = assign_blocks(blocks, (0.6, 0.2, 0.2), seed=0)
    assert sorted(split) == blocks
    counts = {s: list(split.values()).count(s) for s in ('train', 'val',
                                                         'test')}
    assert counts == dict(train=5, val=2, test=2)  # round(0.2 * 9) = 2
    assert split == assign_blocks(blocks, (0.6, 0.2, 0.2), seed=0)
    assert split != assign_blocks(blocks, (0.6, 0.2, 0.2), seed=1)
    with pytest.raises(SITSDataError, match='cannot make a train split'):
        assign_blocks(blocks[:2], (0.6, 0.2, 0.2), seed=0)
    f = tmp_path / 'blocks.csv'
    f.write_text('block_row,block_col,split\n0,0,train\n0,1,holdout\n')
    with pytest.raises(SITSDataError, match="split 'holdout'"):
        read_block_file(str(f), [(0, 0), (0, 1)])
    f.write_text('block_row,block_col,split\n0,0,train\n')
    with pytest.raises(SITSDataError, match='not listed'):
        read_block_file(str(f), [(0, 0), (0, 1)])


def test_band_statistics_by_hand():
    img = np.array([[[[1., 3.]], [[NODATA, 10.]]],
                    [[[5., NODATA]], [[20., 30.]]]])  # (T=2, C=2, 1, 2)
    st = BandStatistics(2)
    st.add(img[:1])
    st.add(img[1:])
    mean, std = st.result()
    np.testing.assert_allclose(mean, [3., 20.])  # (1+3+5)/3, (10+20+30)/3
    np.testing.assert_allclose(std, [np.sqrt(8 / 3), np.sqrt(200 / 3)])
    with pytest.raises(SITSDataError, match='no valid pixel'):
        BandStatistics(1).result()


def _scene_img():
    """2 dates, 2 bands, value 100 * band + row * 8 + col (+ 1000 on date
    2); rows and columns 4-7 no-data."""
    rc = np.arange(64, dtype=np.float32).reshape(8, 8)
    img = np.stack([np.stack([rc + 100 * b + 1000 * t for b in range(2)])
                    for t in range(2)])
    img[:, :, 4:8, 4:8] = NODATA
    return img


def _Scene():
    return InMemoryScene(_scene_img(), [datetime.date(2020, 3, 1),
                                        datetime.date(2020, 6, 1)],
                         TRANSFORM, CRS)


def _read_rows(path):
    with open(path, newline='') as f:
        return list(csv.DictReader(f))


def test_write_training_set_by_hand(tmp_path):
    nom = _nomenclature(tmp_path)
    gdf = read_vector(_parcels(tmp_path), None, ['code'], CRS, 'parcels')
    labels, _ = rasterize_parcels(gdf, 'code', nom, TRANSFORM, (8, 8))
    out = str(tmp_path / 'region')
    blocks = tmp_path / 'blocks.csv'
    blocks.write_text('block_row,block_col,split\n0,0,train\n0,1,train\n'
                      '1,0,test\n1,1,val\n')
    logs = []
    region = write_training_set(
        _Scene(), out, nom, ['B2', 'B3'], pixel_labels=labels, window=4,
        block_size=4, block_file=str(blocks), min_fraction=0.25,
        log=logs.append)
    train = _read_rows(osp.join(out, 'splits', 'train.csv'))
    assert [r['sample_id'] for r in train] == ['r00000_c00000',
                                               'r00000_c00004']
    # block (1, 1) is all no-data: not written
    assert _read_rows(osp.join(out, 'splits', 'val.csv')) == []
    assert region['skipped']['no_data'] == 1
    w = np.load(osp.join(out, train[0]['path']))
    np.testing.assert_array_equal(w['labels'], _expected_labels()[:4, :4])
    np.testing.assert_array_equal(w['img'][1, 0],
                                  _scene_img()[1, 0, :4, :4])
    assert w['doy'].tolist() == [61, 153]
    # window (0, 0): wheat 12 of 16 px, maize 0 ... > 25 %: wheat only;
    # window (0, 4): maize 4 of 16 px (not > 25 %)
    assert w['image_labels'].tolist() == [1, 0]
    w2 = np.load(osp.join(out, train[1]['path']))
    assert w2['image_labels'].tolist() == [0, 0]
    # statistics of the two training windows (no no-data in them)
    both = _scene_img()[..., :4, :8]
    with open(osp.join(out, 'norm.json')) as f:
        norm = json.load(f)
    np.testing.assert_allclose(norm['mean'], both.mean(axis=(0, 2, 3)))
    np.testing.assert_allclose(norm['std'], both.std(axis=(0, 2, 3)))
    with open(osp.join(out, 'classes.json')) as f:
        classes = json.load(f)
    assert classes['classes'] == ['background', 'wheat', 'maize']
    assert classes['bands'] == ['B2', 'B3']
    # maize has pixels but no image label in the training split -> fine;
    # a class with neither would be warned about
    assert region['counts']['train']['pixels']['maize'] == 4
    assert region['counts']['test']['windows'] == 1


def test_class_without_training_window_warned(tmp_path):
    nom = _nomenclature(tmp_path, 'value,class\n11,wheat\n12,maize\n'
                        '14,rye\n')
    gdf = read_vector(_parcels(tmp_path), None, ['code'], CRS, 'parcels')
    labels, _ = rasterize_parcels(gdf, 'code', nom, TRANSFORM, (8, 8))
    logs = []
    region = write_training_set(
        _Scene(), str(tmp_path / 'r'), nom, ['B2', 'B3'],
        pixel_labels=labels, window=4, block_size=4, ratios=(1, 0, 0),
        log=logs.append)
    assert region['warnings'] == ["class 'rye' has no training window"]
    assert "warning: class 'rye' has no training window" in logs


def test_cells_without_data_warned(tmp_path):
    nom = _nomenclature(tmp_path)
    gdf = gpd.GeoDataFrame(
        [dict(crops='11', geometry=_px_box(0, 0, 4, 8)),
         dict(crops='12', geometry=_px_box(4, 4, 8, 8))],  # all no-data
        geometry='geometry', crs=CRS)
    cells, vecs, _ = rasterize_cells(gdf, 'crops', nom, TRANSFORM, (8, 8))
    region = write_training_set(
        _Scene(), str(tmp_path / 'r'), nom, ['B2', 'B3'],
        cells=(cells, vecs), window=4, block_size=4, ratios=(1, 0, 0),
        log=lambda m: None)
    assert region['parcels']['cells_without_data'] == [1]
    assert any('1 image-label cell(s) overlap no written window' in w
               for w in region['warnings'])
    # the window at (4, 0) lies in no cell: no label, not written
    assert region['skipped']['no_label'] == 1
    assert region['counts']['train']['windows'] == 2
    with pytest.raises(SITSDataError, match='give parcels'):
        write_training_set(_Scene(), str(tmp_path / 'r2'), nom, ['B2'])


def test_parcels_in_no_split_and_in_two_splits(tmp_path):
    nom = _nomenclature(tmp_path)
    gdf = gpd.GeoDataFrame(
        [dict(code=11, geometry=_px_box(0, 0, 2, 2)),  # block (0, 0)
         dict(code=12, geometry=_px_box(0, 6, 2, 8)),  # block (0, 1): none
         dict(code=11, geometry=_px_box(2, 2, 6, 4))],  # blocks (0,0)+(1,0)
        geometry='geometry', crs=CRS)
    labels, rep = rasterize_parcels(gdf, 'code', nom, TRANSFORM, (8, 8))
    blocks = tmp_path / 'blocks.csv'
    blocks.write_text('block_row,block_col,split\n0,0,train\n0,1,none\n'
                      '1,0,test\n1,1,val\n')
    region = write_training_set(
        _Scene(), str(tmp_path / 'r'), nom, ['B2', 'B3'],
        pixel_labels=labels, window=4, block_size=4, block_file=str(blocks),
        parcel_rows=rep['parcel_rows'], log=lambda m: None)
    assert region['parcels'] == dict(in_no_split=[1],
                                     in_several_splits=[2])
    assert region['skipped']['none_split'] == 1
    assert any(w.startswith('1 parcel(s) lie in no written window')
               for w in region['warnings'])
