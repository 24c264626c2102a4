# Copyright (c) mmexact contributors. All rights reserved.
"""Reading Sentinel-2 GeoTIFF time series: dates, bands, scale / offset,
masks, date selection, and a clear error (naming the file) for each bad
input."""
import datetime
import json
import os.path as osp

import numpy as np
import pytest
from rasterio.transform import from_origin

from mmexact.geo import (date_from_name, open_scene, parse_date,
                         select_dates)
from mmexact.structures import S2_BANDS, SITSDataError, canonical_band
from mmexact.testing.geotiff import (S2_DESCRIPTIONS, UTM31_ORIGIN,
                                     write_geotiff, write_series)

D = datetime.date
BANDS = tuple(canonical_band(b) for b in S2_BANDS)


def _img(t=2, h=16, w=16, base=1000, dtype=np.int16):
    """Band k of date t holds base * (t + 1) + k everywhere."""
    vals = base * (np.arange(t)[:, None] + 1) + np.arange(10)[None]
    return np.broadcast_to(vals[:, :, None, None], (t, 10, h, w)).astype(
        dtype).copy()


def test_dates_from_names_and_text():
    assert date_from_name('S2A_MSIL2A_20190105T105421_N0211_R051_T31TFJ_'
                          '20190107T134120.tif') == D(2019, 1, 5)
    assert date_from_name('/x/T31TFJ_2019-03-07_B.tif') == D(2019, 3, 7)
    # first candidate is not a calendar date: the next one is used
    assert date_from_name('x_20191345_20190301.tif') == D(2019, 3, 1)
    with pytest.raises(SITSDataError, match=r'field_A\.tif: cannot parse '
                       'an acquisition date'):
        date_from_name('/data/field_A.tif')
    assert parse_date('20190105') == D(2019, 1, 5)
    with pytest.raises(SITSDataError, match='idx.csv: cannot parse the '
                       "date '2019-02-30'"):
        parse_date('2019-02-30', 'idx.csv')


def test_band_names():
    assert [canonical_band(b) for b in (
        'B02', 'b8a', 'S2_B11_20m', 'red', 'nir08', 'B08', 'B13', 'SCL',
        'cloud')] == ['B2', 'B8A', 'B11', 'B4', 'B8A', 'B8', None, None,
                      None]


def test_date_selection_rules():
    dates = [D(2019, 3, 1), D(2019, 1, 10), D(2018, 12, 20), D(2019, 6, 1),
             D(2019, 2, 1)]
    clear = [0.5, 0.9, 0.9, 1.0, 0.2]
    # day-of-year order: 01-10, 02-01, 03-01, 06-01, (2018-)12-20
    assert select_dates(dates, clear, 5).tolist() == [1, 4, 0, 3, 2]
    assert select_dates(dates, clear, None).tolist() == [1, 4, 0, 3, 2]
    # clearest 3: 06-01 (1.0), then the 0.9 tie, both kept
    assert select_dates(dates, clear, 3).tolist() == [1, 3, 2]
    assert select_dates(dates, clear, 2).tolist() == [3, 2]  # tie: earlier
    assert select_dates(dates, clear, 3, 'first').tolist() == [1, 4, 0]
    with pytest.raises(SITSDataError, match='in.tif: 5 dates, but the '
                       'model takes at most 3'):
        select_dates(dates, clear, 3, 'error', 'in.tif')


def test_scale_offset_nodata_and_scl(tmp_path):
    """uint16 L2A digital numbers: the 2022 date loses the baseline-04.00
    offset (-1000); DN 0 (L2A no-data) and SCL cloud (9) become -10000 in
    every band; frames come in day-of-year order; bands are matched by
    their descriptions whatever their order in the file."""
    img = _img(2, dtype=np.uint16)  # 1000 + k, 2000 + k
    img[0, 3, 1, 1] = 0  # no data in one band -> whole pixel
    scl = np.full((2, 16, 16), 4, np.uint8)  # vegetation
    scl[1, 0, 0] = 9  # cloud, high probability
    scl[0, 2, 2] = 11  # snow: kept
    folder = str(tmp_path / 's2')
    rev = img[:, ::-1].copy()  # bands stored B12 ... B02
    write_series(folder, rev, [D(2021, 12, 30), D(2022, 2, 1)], masks=scl,
                 descriptions=S2_DESCRIPTIONS[::-1])
    with open_scene(folder, BANDS) as scene:
        assert scene.dates == [D(2022, 2, 1), D(2021, 12, 30)]
        assert scene.doy.tolist() == [32, 364]
        x = scene.read(0, 16, 0, 16)
        assert x.dtype == np.float32 and x.shape == (2, 10, 16, 16)
        np.testing.assert_array_equal(x[0, :, 5, 5], 1000 + np.arange(10))
        np.testing.assert_array_equal(x[1, :, 5, 5], 1000 + np.arange(10))
        np.testing.assert_array_equal(x[0, :, 0, 0], -10000)  # cloud
        np.testing.assert_array_equal(x[1, :, 1, 1], -10000)  # DN 0
        assert (x[1, :, 2, 2] == 1000 + np.arange(10)).all()  # snow
        # chronological; the clear fraction reads the mask and the first
        # model band (B2) of a preview
        assert [d['clear_fraction'] for d in scene.all_dates] == [
            1.0, round(255 / 256, 4)]
        np.testing.assert_array_equal(scene.read(4, 6, 3, 8),
                                      x[:, :, 4:6, 3:8])
    with open_scene(folder, BANDS, offset=0, scl_invalid=[]) as scene:
        y = scene.read(0, 16, 0, 16)
        np.testing.assert_array_equal(y[0, :, 0, 0], 2000 + np.arange(10))


def test_float_reflectance_and_binary_mask_index(tmp_path):
    """Float reflectances (scale 1) and an index CSV with binary masks."""
    refl = _img(2, base=1000, dtype=np.float32) / 10000.  # 0.1 + k / 1e4
    refl[1, :, 3, 4] = np.nan
    write_series(str(tmp_path), refl, [D(2023, 5, 1), D(2023, 6, 1)])
    mask = np.zeros((16, 16), np.uint8)
    mask[7, 7] = 1
    write_geotiff(str(tmp_path / 'cloud_0501.tif'), mask)
    (tmp_path / 'index.csv').write_text(
        'path,date,mask\nS2_20230501.tif,2023-05-01,cloud_0501.tif\n'
        'S2_20230601.tif,20230601,\n')
    with open_scene(str(tmp_path / 'index.csv'), BANDS, scale=1) as scene:
        x = scene.read(0, 16, 0, 16)
        np.testing.assert_allclose(x[0, :, 0, 0], 1000 + np.arange(10),
                                   rtol=1e-6)  # no offset for floats
        assert (x[0, :, 7, 7] == -10000).all()  # binary mask
        assert (x[1, :, 3, 4] == -10000).all()  # NaN
        assert (x[1, :, 7, 7] != -10000).all()


def test_stack_with_date_list(tmp_path):
    img = _img(3)
    stack = img.reshape(30, 16, 16)  # date-major
    desc = [f'{d}_{b}' for d in ('a', 'b', 'c') for b in S2_DESCRIPTIONS]
    path = write_geotiff(str(tmp_path / 'stack.tif'), stack,
                         descriptions=desc)
    dates = tmp_path / 'dates.txt'
    dates.write_text('2019-04-01\n2019-05-01\n2019-06-01\n')
    with open_scene(path, BANDS, dates=str(dates)) as scene:
        x = scene.read(0, 2, 0, 2)
        np.testing.assert_array_equal(x[:, :, 0, 0], img[:, :, 0, 0])
    with pytest.raises(SITSDataError, match=r'stack\.tif: 30 bands is not '
                       'a multiple of the 4 dates'):
        open_scene(path, BANDS, dates='2019-04-01,2019-05-01,2019-06-01,'
                   '2019-07-01')
    with pytest.raises(SITSDataError, match='stack.tif: a single stack '
                       'needs its dates'):
        open_scene(path, BANDS)


def _two_dates(tmp_path, second=None, **kw):
    folder = tmp_path / 'in'
    write_series(str(folder), _img(1), [D(2019, 5, 1)])
    if second is not None:
        second(str(folder / 'S2_20190601.tif'))
    return str(folder)


@pytest.mark.parametrize('case,match', [
    ('no_date', r'scene_b\.tif: cannot parse an acquisition date'),
    ('crs', r'S2_20190601\.tif: CRS EPSG:32632 differs from EPSG:32631'),
    ('grid', r'S2_20190601\.tif: grid .* differs'),
    ('size', r'S2_20190601\.tif: size 20 x 16 differs from 16 x 16'),
    ('missing', r'S2_20190601\.tif: missing band\(s\) B12'),
    ('extra', r'S2_20190601\.tif: extra band\(s\) B1 the model does not '
     'use'),
    ('uint8', r'S2_20190601\.tif: data type uint8 cannot hold'),
    ('no_desc', r'S2_20190601\.tif: band 1 has no description'),
    ('not_a_band', r"S2_20190601\.tif: band 10 \(band description 'NDVI'"),
    ('duplicate', r'T31TFJ_2019-05-01\.tif: date 2019-05-01 already given'
     r' by .*S2_20190501\.tif'),
    ('mask_size', r'S2_20190601_SCL\.tif: mask of 8 x 8 pixels, its image'),
    ('orphan_mask', r'S2_20190701_SCL\.tif: mask without an image'),
])
def test_bad_inputs_name_the_file(tmp_path, case, match):
    one = _img(1)[0]
    writers = dict(
        no_date=lambda p: write_geotiff(osp.join(osp.dirname(p),
                                                 'scene_b.tif'), one,
                                        descriptions=S2_DESCRIPTIONS),
        crs=lambda p: write_geotiff(p, one, crs='EPSG:32632',
                                    descriptions=S2_DESCRIPTIONS),
        grid=lambda p: write_geotiff(
            p, one, transform=from_origin(UTM31_ORIGIN[0] + 10,
                                          UTM31_ORIGIN[1], 10, 10),
            descriptions=S2_DESCRIPTIONS),
        size=lambda p: write_geotiff(p, _img(1, w=20)[0],
                                     descriptions=S2_DESCRIPTIONS),
        missing=lambda p: write_geotiff(p, one[:9],
                                        descriptions=S2_DESCRIPTIONS[:9]),
        extra=lambda p: write_geotiff(p, np.concatenate([one, one[:1]]),
                                      descriptions=S2_DESCRIPTIONS +
                                      ('B01', )),
        uint8=lambda p: write_geotiff(p, one.clip(0, 255).astype(np.uint8),
                                      descriptions=S2_DESCRIPTIONS),
        no_desc=lambda p: write_geotiff(p, one),
        not_a_band=lambda p: write_geotiff(
            p, one, descriptions=S2_DESCRIPTIONS[:9] + ('NDVI', )),
        duplicate=lambda p: write_geotiff(
            osp.join(osp.dirname(p), 'T31TFJ_2019-05-01.tif'), one,
            descriptions=S2_DESCRIPTIONS),
        mask_size=lambda p: (write_geotiff(p, one,
                                           descriptions=S2_DESCRIPTIONS),
                             write_geotiff(p[:-4] + '_SCL.tif',
                                           np.zeros((8, 8), np.uint8))),
        orphan_mask=lambda p: write_geotiff(
            osp.join(osp.dirname(p), 'S2_20190701_SCL.tif'),
            np.zeros((16, 16), np.uint8)),
    )
    folder = _two_dates(tmp_path, writers[case])
    with pytest.raises(SITSDataError, match=match):
        open_scene(folder, BANDS).close()


def test_extra_bands_can_be_ignored_and_named(tmp_path):
    one = _img(1)[0]
    folder = tmp_path / 'in'
    folder.mkdir()
    write_geotiff(str(folder / 'S2_20190501.tif'),
                  np.concatenate([one[:1] * 0 + 7, one]),
                  descriptions=('B01', ) + S2_DESCRIPTIONS)
    with open_scene(str(folder), BANDS, ignore_extra_bands=True) as scene:
        np.testing.assert_array_equal(scene.read(0, 1, 0, 1)[0, :, 0, 0],
                                      one[:, 0, 0])
    names = ['B1'] + list(S2_DESCRIPTIONS)
    with open_scene(str(folder), BANDS, bands=names,
                    ignore_extra_bands=True) as scene:
        assert scene.num_bands == 10
    with pytest.raises(SITSDataError, match=r'S2_20190501\.tif: 11 bands '
                       'per date, --bands lists 10 .* a band is missing or '
                       'extra'):
        open_scene(str(folder), BANDS, bands=names[1:])


def test_empty_folder_too_many_dates_and_index_errors(tmp_path):
    (tmp_path / 'empty').mkdir()
    with pytest.raises(SITSDataError, match=r'empty: no GeoTIFF'):
        open_scene(str(tmp_path / 'empty'), BANDS)
    with pytest.raises(SITSDataError, match='nothing: input not found'):
        open_scene(str(tmp_path / 'nothing'), BANDS)
    folder = str(tmp_path / 'three')
    scl = np.full((3, 16, 16), 4, np.uint8)
    scl[0, :8] = 9  # the first date is half cloudy
    write_series(folder, _img(3), [D(2019, 4, 1), D(2019, 5, 1),
                                   D(2019, 6, 1)], masks=scl)
    with pytest.raises(SITSDataError, match=r'three: 3 dates, but the model'
                       ' takes at most 2'):
        open_scene(folder, BANDS, max_seq_len=2, date_selection='error')
    with open_scene(folder, BANDS, max_seq_len=2) as scene:  # clearest
        assert scene.dates == [D(2019, 5, 1), D(2019, 6, 1)]
        assert [d['selected'] for d in scene.all_dates] == [False, True,
                                                            True]
    with open_scene(folder, BANDS, max_seq_len=2,
                    date_selection='first') as scene:
        assert scene.dates == [D(2019, 4, 1), D(2019, 5, 1)]
    index = tmp_path / 'index.json'
    index.write_text(json.dumps([dict(path='three/S2_20190401.tif',
                                      date='2019-04-01'),
                                 dict(path='three/gone.tif',
                                      date='2019-05-01')]))
    with pytest.raises(SITSDataError, match=r'index\.json: listed file '
                       r'.*gone\.tif does not exist'):
        open_scene(str(index), BANDS)
