# Copyright (c) mmexact contributors. All rights reserved.
"""STAC inputs of the scene reader: static catalogs, ItemCollections and
(mocked) API searches of per-band Sentinel-2 assets at 10 and 20 m read
through per-date VRTs, pixel for pixel as the same data in the folder
layout; and a clear error (naming the item) for each bad input."""
import datetime
import json
import os
import os.path as osp

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin
from rasterio.warp import transform_bounds

from mmexact.geo import StacSearch, open_scene
from mmexact.structures import S2_BANDS, SITSDataError, canonical_band
from mmexact.testing.geotiff import UTM31_ORIGIN, write_geotiff, write_series

D = datetime.date
BANDS = tuple(canonical_band(b) for b in S2_BANDS)
FINE = ('B2', 'B3', 'B4', 'B8')  # 10 m; the other model bands are 20 m
#: Earth Search (v1) asset keys; Planetary Computer uses B02 ... B12, SCL
ES_KEYS = dict(B2='blue', B3='green', B4='red', B5='rededge1',
               B6='rededge2', B7='rededge3', B8='nir', B8A='nir08',
               B11='swir16', B12='swir22', SCL='scl')
H = W = 16
T10 = from_origin(*UTM31_ORIGIN, 10., 10.)
T20 = from_origin(*UTM31_ORIGIN, 20., 20.)


def _series(dates, seed=0):
    """Per date: 10 m bands (16 x 16), 20 m bands and SCL (8 x 8)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in dates:
        b10 = rng.integers(1, 5000, (len(FINE), H, W)).astype(np.uint16)
        b20 = rng.integers(1, 5000, (len(BANDS) - len(FINE), H // 2,
                                     W // 2)).astype(np.uint16)
        scl = np.full((H // 2, W // 2), 4, np.uint8)
        out.append((b10, b20, scl))
    return out


def _up(a):
    """20 m -> 10 m, nearest: each pixel becomes 2 x 2."""
    return np.repeat(np.repeat(a, 2, axis=-2), 2, axis=-1)


def _stack(b10, b20):
    """(10, 16, 16) in model band order (20 m bands upsampled)."""
    coarse = [b for b in BANDS if b not in FINE]
    return np.stack([b10[FINE.index(b)] if b in FINE else
                     _up(b20[coarse.index(b)]) for b in BANDS])


def _item(folder, item_id, date, b10, b20, scl, keys='es', props=None,
          absolute=False, proj=False, skip=()):
    """A STAC item (dict) whose assets are single-band GeoTIFFs written in
    ``folder`` (hrefs relative to the item JSON, or absolute)."""
    os.makedirs(folder, exist_ok=True)
    coarse = [b for b in BANDS if b not in FINE]
    assets = {}
    layers = [(b, b10[FINE.index(b)], T10) for b in FINE] + \
        [(b, b20[coarse.index(b)], T20) for b in coarse] + \
        [('SCL', scl, T20)]
    for band, data, transform in layers:
        if band in skip:
            continue
        key = ES_KEYS[band] if keys == 'es' else (
            band if band == 'SCL' else f'B{band[1:]:0>2}')
        name = f'{item_id}_{key}.tif'
        write_geotiff(osp.join(folder, name), data, transform=transform)
        asset = dict(href=osp.join(folder, name) if absolute else name,
                     type='image/tiff; application=geotiff; '
                     'profile=cloud-optimized', roles=['data'])
        if keys == 'es':
            asset['eo:bands'] = [dict(name=key, common_name=key)] \
                if band != 'SCL' else []
        if proj:
            asset.update({
                'proj:shape': list(data.shape),
                'proj:transform': list(transform)[:6],
                'raster:bands': [dict(data_type=data.dtype.name)]})
        assets[key] = asset
        if keys == 'es' and band == 'B4':  # JPEG 2000 twin: not used
            assets['red-jp2'] = dict(href='missing.jp2', type='image/jp2',
                                     roles=['data'],
                                     **{'eo:bands': [dict(name='red')]})
    properties = dict(datetime=f'{date}T10:56:21.024000Z',
                      **{'eo:cloud_cover': 5.0}, **(props or {}))
    if proj:
        properties['proj:epsg'] = 32631
    return dict(type='Feature', stac_version='1.0.0', id=item_id,
                geometry=None, properties=properties, links=[],
                assets=assets)


def _catalog(root, dates, data, **kw):
    """catalog.json linking one item per date (item JSON and its GeoTIFFs
    in ``items/<id>/``; the last link absolute, the others relative)."""
    links = []
    for k, (d, (b10, b20, scl)) in enumerate(zip(dates, data)):
        iid = f'S2A_31TEJ_{d:%Y%m%d}_0_L2A'
        folder = osp.join(root, 'items', iid)
        item = _item(folder, iid, d, b10, b20, scl, **kw)
        with open(osp.join(folder, iid + '.json'), 'w') as f:
            json.dump(item, f)
        href = f'./items/{iid}/{iid}.json'
        links.append(dict(rel='item', type='application/json',
                          href=osp.join(root, href[2:])
                          if k == len(dates) - 1 else href))
    path = osp.join(root, 'catalog.json')
    with open(path, 'w') as f:
        json.dump(dict(type='Catalog', stac_version='1.0.0', id='tile',
                       description='test tile', links=links), f)
    return path


def test_static_catalog_equals_folder_layout(tmp_path):
    """A catalog of per-band assets (10 m and 20 m bands, 20 m SCL) reads
    exactly as the same data stacked on the 10 m grid in the folder
    layout: 20 m bands and SCL upsampled nearest (np.repeat), SCL cloud
    (9) masked in every band, DN 0 no data, dates from
    properties.datetime; the VRTs carry the canonical descriptions and go
    when the scene is closed."""
    dates = [D(2019, 7, 1), D(2019, 5, 1), D(2019, 6, 1)]
    data = _series(dates)
    data[0][2][1, 2] = 9  # cloud: 10 m rows 2-3, cols 4-5 of 2019-07-01
    data[1][0][0, 5, 6] = 0  # DN 0 in B2 of 2019-05-01 at (5, 6)
    path = _catalog(str(tmp_path / 'cat'), dates, data)
    with open_scene(path, BANDS) as scene:
        assert scene.dates == sorted(dates)
        assert (scene.height, scene.width) == (H, W)
        assert scene.profile['transform'] == T10
        x = scene.read(0, H, 0, W)
        vrt = scene.frames[0].path
        with rasterio.open(vrt) as ds:
            assert ds.descriptions == ('B02', 'B03', 'B04', 'B05', 'B06',
                                       'B07', 'B08', 'B8A', 'B11', 'B12')
        assert scene.frames[0].mask_kind == 'scl'
        assert [d['source'].split()[2] for d in scene.all_dates] == [
            f'S2A_31TEJ_{d:%Y%m%d}_0_L2A' for d in sorted(dates)]
        tmp = scene._tmp_dir
        assert osp.isdir(tmp)
    assert not osp.exists(tmp)
    # by hand: B5 (first 20 m band) is the 20 m array repeated 2 x 2
    may, jul = x[0], x[2]
    np.testing.assert_array_equal(may[3, 6:, 7:], _up(data[1][1][0])[6:, 7:])
    np.testing.assert_array_equal(may[0, :5], data[1][0][0, :5])
    assert (may[:, 5, 6] == -10000).all()  # DN 0 in one band: all bands
    assert (jul[:, 2:4, 4:6] == -10000).all()  # cloud, 20 m pixel (1, 2)
    assert (jul[:, 2:4, 6:8] != -10000).all()
    # the folder layout of the same data gives the same array
    folder = str(tmp_path / 's2')
    up_scl = np.stack([_up(s) for _, _, s in data])
    write_series(folder, np.stack([_stack(a, b) for a, b, _ in data]),
                 dates, masks=up_scl)
    with open_scene(folder, BANDS) as ref:
        assert ref.dates == scene.dates
        np.testing.assert_array_equal(ref.read(0, H, 0, W), x)
        assert [d['clear_fraction'] for d in ref.all_dates] == [
            d['clear_fraction'] for d in scene.all_dates]


def test_item_collection_metadata_and_offsets(tmp_path):
    """An ItemCollection (Planetary Computer keys, no eo:bands, grids from
    proj: / raster:bands) with offsets: before 2022-01-25 without a
    baseline 0; baseline 04.00: -1000; a reprocessed 2020 item (baseline
    05.00): -1000 although the date rule would give 0; Earth Search's
    boa_offset_applied: 0. offset=0 overrides them all."""
    dates = [D(2021, 12, 30), D(2022, 2, 1), D(2020, 6, 1), D(2022, 3, 1)]
    props = [{}, {'s2:processing_baseline': '04.00'},
             {'s2:processing_baseline': '05.00'},
             {'s2:processing_baseline': '04.00',
              'earthsearch:boa_offset_applied': True}]
    data = _series(dates, seed=1)
    folder = str(tmp_path / 'assets')
    items = [_item(folder, f'S2B_{d:%Y%m%d}', d, *dat, keys='pc',
                   props=p, proj=True)
             for d, dat, p in zip(dates, data, props)]
    path = tmp_path / 'assets' / 'items.json'  # hrefs relative to it
    path.write_text(json.dumps(dict(type='FeatureCollection',
                                    features=items)))
    with open_scene(str(path), BANDS) as scene:
        by_date = {d['date']: d['offset'] for d in scene.all_dates}
        assert by_date == {'2020-06-01': -1000., '2021-12-30': 0.,
                           '2022-02-01': -1000., '2022-03-01': 0.}
        x = scene.read(0, H, 0, W)
    with open_scene(str(path), BANDS, offset=0) as scene:
        y = scene.read(0, H, 0, W)
    ref = np.stack([_stack(a, b) for a, b, _ in data]).astype(np.float32)
    order = np.argsort([d.timetuple().tm_yday for d in dates])  # doy order
    np.testing.assert_array_equal(y, ref[order])
    shift = np.array([0., -1000., -1000., 0.], np.float32)[order]
    np.testing.assert_array_equal(
        x, np.maximum(ref[order] + shift[:, None, None, None], -9999))


def test_search_is_mocked_and_cropped_to_the_bbox(tmp_path, monkeypatch):
    """A pystac-client search gets the collections, bbox, datetime, limit
    and the eo:cloud_cover query; the scene is the bbox, snapped outward
    to the 20 m pixels: a UTM box 3 m inside cols 4..12, rows 2..10 gives
    exactly those pixels."""
    import pystac
    import pystac_client
    dates = [D(2019, 4, 1), D(2019, 8, 1)]
    data = _series(dates, seed=2)
    folder = str(tmp_path / 'assets')
    items = []
    for d, dat in zip(dates, data):
        it = _item(folder, f'S2A_{d:%Y%m%d}', d, *dat, absolute=True)
        items.append(pystac.Item.from_dict(it))
    calls = []

    class FakeSearch:

        def __init__(self, **kw):
            calls.append(kw)

        def items(self):
            yield from items

    class FakeClient:

        def search(self, **kw):
            return FakeSearch(**kw)

    opened = []
    monkeypatch.setattr(pystac_client.Client, 'open',
                        lambda url, **kw: opened.append(url) or FakeClient())
    x0, y0 = UTM31_ORIGIN
    bbox = transform_bounds('EPSG:32631', 'EPSG:4326', x0 + 40 + 3,
                            y0 - 100 + 3, x0 + 120 - 3, y0 - 20 - 3)
    search = StacSearch('https://stac.example/v1', bbox=bbox,
                        datetime='2019-01-01/2019-12-31',
                        max_cloud_cover=20, max_items=50)
    with open_scene(search, BANDS) as scene:
        assert (scene.height, scene.width) == (8, 8)
        assert scene.profile['transform'] == from_origin(x0 + 40, y0 - 20,
                                                         10, 10)
        assert scene.dates == dates
        x = scene.read(0, 8, 0, 8)
        assert scene.name.startswith('STAC search https://stac.example/v1')
    assert opened == ['https://stac.example/v1']
    assert calls == [dict(collections=['sentinel-2-l2a'], max_items=50,
                          bbox=list(bbox), datetime='2019-01-01/2019-12-31',
                          query={'eo:cloud_cover': {'lte': 20.0}})]
    full = np.stack([_stack(a, b) for a, b, _ in data])
    np.testing.assert_array_equal(x, full[:, :, 2:10, 4:12])
    # the limit was reached: the scene says dates may be missing
    search.max_items = 2
    with open_scene(search, BANDS) as scene:
        assert any('max_items (2)' in w for w in scene.warnings)


def _bad_catalog(tmp_path, case):
    dates = [D(2019, 5, 1), D(2019, 6, 1)]
    data = _series(dates)
    root = str(tmp_path / 'c')
    if case == 'missing_band':
        items = [_item(osp.join(root, str(k)), f'it{k}', d, *dat,
                       skip=('B11', ) if k else ())
                 for k, (d, dat) in enumerate(zip(dates, data))]
    elif case == 'duplicate_date':
        items = [_item(osp.join(root, str(k)), f'S2{"AB"[k]}_31TEJ', dates[0],
                       *dat) for k, dat in enumerate(data)]
    elif case == 'other_grid':
        items = [_item(osp.join(root, '0'), 'it0', dates[0], *data[0])]
        b10, b20, scl = data[1]
        items.append(_item(osp.join(root, '1'), 'it1', dates[1],
                           b10[:, :8, :8], b20[:, :4, :4], scl[:4, :4]))
    elif case == 'not_stac':
        path = tmp_path / 'area.json'
        path.write_text(json.dumps(dict(type='Polygon', coordinates=[])))
        return str(path)
    elif case == 'plain_geojson':
        path = tmp_path / 'fields.json'
        path.write_text(json.dumps(dict(type='FeatureCollection', features=[
            dict(type='Feature', geometry=None, properties={})])))
        return str(path)
    for k, it in enumerate(items):  # absolute hrefs: write the JSON here
        for a in it['assets'].values():
            a['href'] = osp.join(root, str(k), a['href'])
    path = tmp_path / 'items.json'
    path.write_text(json.dumps(dict(type='FeatureCollection',
                                    features=items)))
    return str(path)


@pytest.mark.parametrize('case,match', [
    ('missing_band', r'STAC item it1: no asset for band\(s\) B11 the model '
     'needs'),
    ('duplicate_date', r'several STAC items on one date \(2019-05-01: '
     r'S2A_31TEJ, S2B_31TEJ\)'),
    ('other_grid', r'STAC item it1: on another grid .* 8 x 8\) than STAC '
     r'item it0 .* 16 x 16\)'),
    ('not_stac', r"area\.json: neither an index nor a STAC JSON .*"
     r"'Polygon'"),
    ('plain_geojson', r'fields\.json: feature 1 is not a STAC item'),
])
def test_bad_stac_inputs_name_the_item(tmp_path, case, match):
    path = _bad_catalog(tmp_path, case)
    with pytest.raises(SITSDataError, match=match):
        open_scene(path, BANDS).close()


def test_index_json_still_an_index_and_bbox_is_stac_only(tmp_path):
    write_series(str(tmp_path), np.ones((1, 10, H, W), np.int16),
                 [D(2019, 5, 1)])
    index = tmp_path / 'index.json'
    index.write_text(json.dumps({'S2_20190501.tif': '2019-05-01'}))
    with open_scene(str(index), BANDS) as scene:
        assert scene.dates == [D(2019, 5, 1)]
    with pytest.raises(SITSDataError, match=r'index\.json: not a STAC '
                       'input; bbox'):
        open_scene(str(index), BANDS, bbox=(3, 43, 4, 44))


def test_asset_hrefs_as_gdal_paths(tmp_path):
    """Remote hrefs go through GDAL's virtual file systems (not opened
    here); relative ones are relative to the item JSON."""
    import pystac
    from mmexact.geo.stac import _href
    item = pystac.Item.from_dict(dict(
        type='Feature', stac_version='1.0.0', id='x', geometry=None,
        properties=dict(datetime='2019-05-01T10:00:00Z'), links=[],
        assets=dict(a=dict(href='https://b.s3.amazonaws.com/T/B04.tif'),
                    b=dict(href='s3://bucket/T/B08.tif'),
                    c=dict(href='sub/B02.tif'))))
    item.set_self_href(str(tmp_path / 'items' / 'x.json'))
    assert _href(item, item.assets['a']) == \
        '/vsicurl/https://b.s3.amazonaws.com/T/B04.tif'
    assert _href(item, item.assets['b']) == '/vsis3/bucket/T/B08.tif'
    assert _href(item, item.assets['c']) == str(tmp_path / 'items' / 'sub' /
                                                'B02.tif')


def test_training_set_from_a_static_catalog(tmp_path):
    """STAC as the scene source of a training set: scene_to_windows.py on
    a catalog writes windows whose images are the catalog's pixels (as
    open_scene reads them) and whose labels come from a parcel in the
    scene's CRS."""
    import sys

    import geopandas as gpd
    from shapely.geometry import box
    sys.path.insert(0, osp.join(osp.dirname(osp.dirname(osp.dirname(
        osp.abspath(__file__)))), 'tools', 'dataset_converters'))
    import scene_to_windows
    dates = [D(2019, 5, 1), D(2019, 6, 1)]
    cat = _catalog(str(tmp_path / 'stac'), dates, _series(dates, seed=3))
    x0, y0 = UTM31_ORIGIN
    gpd.GeoDataFrame(  # one wheat parcel on rows 0-7, columns 0-15
        [dict(code=1, geometry=box(x0, y0 - 80, x0 + 160, y0))],
        geometry='geometry', crs='EPSG:32631').to_file(
            str(tmp_path / 'parcels.gpkg'))
    (tmp_path / 'nom.csv').write_text('value,class\n1,wheat\n')
    out = str(tmp_path / 'region')
    region = scene_to_windows.main([
        cat, out, '--nomenclature', str(tmp_path / 'nom.csv'), '--parcels',
        str(tmp_path / 'parcels.gpkg'), '--crop-column', 'code', '--window',
        '8', '--block-size', '8', '--split-ratios', '1', '0', '0',
        '--no-configs'])
    assert region['counts']['train']['windows'] == 4
    with open_scene(cat, BANDS) as scene:
        ref = scene.read(0, 16, 0, 16)
    w = np.load(osp.join(out, 'windows', 'r00008_c00000.npz'))
    np.testing.assert_array_equal(w['img'], ref[..., 8:16, 0:8])
    assert (w['labels'] == 0).all() and w['image_labels'].tolist() == [0]
    w = np.load(osp.join(out, 'windows', 'r00000_c00008.npz'))
    assert (w['labels'] == 1).all() and w['image_labels'].tolist() == [1]
