# Copyright (c) mmexact contributors. All rights reserved.
"""tools/infer.py on GeoTIFF time series written here (EPSG:32631)."""
import datetime
import json
import os.path as osp
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest
import rasterio
import torch
from PIL import Image
from rasterio.transform import from_origin

from mmexact.apis import SITSInferencer, inference_sits, init_model
from mmexact.datasets.pastis_meta import PASTIS_CLASSES, PASTIS_PALETTE
from mmexact.geo import open_scene, write_crop_map
from mmexact.geo.scene_options import scene_source
from mmexact.testing import TINY_BACKBONE, sits_pipeline
from mmexact.testing.geotiff import UTM31_ORIGIN, write_geotiff, write_series
from mmseg.registry import TRANSFORMS

pytestmark = pytest.mark.e2e

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(REPO, 'tools'))
import infer  # noqa: E402

BASE = osp.join(REPO, 'configs', 'tsvit',
                'tsvit_1xb48-100e_pastis24-24x24.py')
DATES = [datetime.date(2019, m, 5) for m in (2, 4, 6, 8, 10)]


@pytest.fixture(scope='module')
def tiny_model(tmp_path_factory):
    """Config (6 frames, slide 24 / 16) and random checkpoint."""
    root = tmp_path_factory.mktemp('tiny_model')
    cfg = root / 'tiny.py'
    cfg.write_text(
        f'_base_ = [{BASE!r}]\n'
        f'model = dict(backbone={TINY_BACKBONE!r}, '
        'decode_head=dict(in_channels=16), test_cfg=dict(mode="slide", '
        'crop_size=(24, 24), stride=(16, 16)))\n'
        f'test_dataloader = dict(dataset=dict(pipeline={sits_pipeline(6)!r}'
        '))\n')
    torch.manual_seed(0)
    model = init_model(str(cfg))
    ckpt = str(root / 'tiny.pth')
    torch.save(dict(state_dict=model.state_dict(), meta={}), ckpt)
    return str(cfg), ckpt


def _scene(folder, h=50, w=62, seed=0):
    """5 dates of int16 DN; a no-data corner; a cloud (SCL 9) on date 3.
    Returns the model-unit array the tool must see."""
    rng = np.random.default_rng(seed)
    img = rng.integers(1, 6000, (5, 10, h, w)).astype(np.int16)
    img[:, :, :4, :6] = -10000  # file no-data at every date
    scl = np.full((5, h, w), 4, np.uint8)
    scl[2, 20:30, 30:45] = 9
    write_series(str(folder), img, DATES, masks=scl, nodata=-10000)
    ref = img.astype(np.float32)
    ref[2, :, 20:30, 30:45] = -10000
    return ref


def _slide(model, img):
    doy = np.array([d.timetuple().tm_yday for d in DATES])
    res = dict(img=img.copy(), doy=doy)
    for step in sits_pipeline(6)[1:-1]:
        res = TRANSFORMS.build(step)(res)
    h, w = img.shape[-2:]
    with torch.no_grad():
        return model.slide_inference(
            torch.from_numpy(res['img'])[None],
            [dict(img_shape=(h, w), ori_shape=(h, w))])[0].numpy()


@pytest.mark.e2e
def test_tool_output_equals_slide_inference(tmp_path, tiny_model):
    """The stitched class map of the tool is bitwise the argmax of
    SITSEncoderDecoder.slide_inference on the same array (one window per
    forward pass, 32 px blocks so windows straddle block seams); the score
    GeoTIFF equals its softmax within 1e-6. CRS, transform, nodata, colour
    table and class names survive; the map is a tiled COG."""
    cfg, ckpt = tiny_model
    img = _scene(tmp_path / 's2')
    out = tmp_path / 'out'
    report = infer.main([cfg, ckpt, str(tmp_path / 's2'), '--out-dir',
                         str(out), '--batch-size', '1', '--block-size',
                         '32', '--save-scores', '--no-progress'])
    model = init_model(cfg, ckpt)
    ref = _slide(model, img)
    valid = np.ones((50, 62), bool)
    valid[:4, :6] = False
    with rasterio.open(out / 'crop_map.tif') as ds:
        pred = ds.read(1)
        assert ds.crs.to_epsg() == 32631
        assert ds.transform == from_origin(*UTM31_ORIGIN, 10, 10)
        assert ds.nodata == 255 and ds.dtypes[0] == 'uint8'
        assert ds.colormap(1)[3] == tuple(PASTIS_PALETTE[3]) + (255, )
        assert json.loads(ds.tags()['CLASS_NAMES']) == list(PASTIS_CLASSES)
        assert ds.tags()['CLASS_3'] == 'Corn'
        assert ds.tags(ns='IMAGE_STRUCTURE')['LAYOUT'] == 'COG'
        assert ds.profile['tiled']
    assert np.array_equal(pred[valid], ref.argmax(0)[valid])  # bitwise
    assert (pred[~valid] == 255).all()
    with rasterio.open(out / 'crop_map_scores.tif') as ds:
        scores = ds.read()
        assert ds.descriptions[3] == 'Corn' and ds.count == 19
    prob = torch.from_numpy(ref).softmax(0).numpy()
    np.testing.assert_allclose(scores[:, valid], prob[:, valid], atol=1e-6)
    assert np.isnan(scores[:, ~valid]).all()
    aux = (out / 'crop_map.tif.aux.xml').read_text()
    assert '<Category>Soft winter wheat</Category>' in aux
    png = Image.open(out / 'crop_map.png')
    assert png.size[0] == 800 and png.mode in ('RGBA', 'RGB')
    saved = json.loads((out / 'crop_map.json').read_text())
    tp = saved['throughput']
    assert tp['windows'] == 12  # rows (0, 16, 26) x cols (0, 16, 32, 38)
    assert tp['km2'] == pytest.approx(50 * 62 * 100 / 1e6)
    assert tp['km2_per_hour'] == pytest.approx(
        tp['km2'] / tp['seconds'] * 3600, rel=0.02)
    assert saved['nodata_pixels'] == 24
    assert sum(c['pixels'] for c in saved['classes'].values()) == 50 * 62 - 24
    assert saved['scene']['dates'] == [d.isoformat() for d in DATES]
    assert report['outputs']['classes'] == str(out / 'crop_map.tif')
    # the Python API on the same files gives the same map
    api = inference_sits(model, str(tmp_path / 's2'), batch_size=1,
                         block_size=32)
    assert np.array_equal(api['pred'], pred)
    assert api['profile']['crs'].to_epsg() == 32631
    assert api['dates'] == DATES


@pytest.mark.e2e
def test_tool_parcels_and_uint8_scores(tmp_path, tiny_model):
    import geopandas as gpd
    from shapely.geometry import box
    cfg, ckpt = tiny_model
    _scene(tmp_path / 's2', h=30, w=30, seed=1)
    x0, y0 = UTM31_ORIGIN
    parcels = gpd.GeoDataFrame(
        dict(name=['in', 'out']),
        geometry=[box(x0 + 50, y0 - 250, x0 + 250, y0 - 50),
                  box(x0 + 5000, y0 - 250, x0 + 5200, y0 - 50)],
        crs='EPSG:32631').to_crs('EPSG:4326')
    parcels.to_file(str(tmp_path / 'p.geojson'), driver='GeoJSON')
    report = infer.main([cfg, ckpt, str(tmp_path / 's2'), '--out-dir',
                         str(tmp_path / 'o'), '--parcels',
                         str(tmp_path / 'p.geojson'), '--save-scores',
                         '--scores-dtype', 'uint8', '--no-progress',
                         '--name', 'm'])
    assert report['parcels']['status'] == dict(ok=1, outside_scene=1)
    out = gpd.read_file(str(tmp_path / 'o' / 'm_parcels.gpkg'))
    assert out.crs == 'EPSG:4326' and list(out['name']) == ['in', 'out']
    with rasterio.open(tmp_path / 'o' / 'm.tif') as ds:
        pred = ds.read(1)
    inside = pred[5:25, 5:25]
    counts = np.bincount(inside.ravel(), minlength=256)
    assert out.loc[0, 'pred_class'] == counts.argmax()
    assert out.loc[0, 'pred_conf'] == pytest.approx(counts.max() / 400)
    assert out.loc[0, 'pred_pixels'] == 400
    assert out['pred_class'].isna().tolist() == [False, True]
    with rasterio.open(tmp_path / 'o' / 'm_scores.tif') as ds:
        s = ds.read()
        assert ds.dtypes[0] == 'uint8' and ds.scales[0] == pytest.approx(
            0.004)
    assert abs(int(s[:, 10, 10].astype(int).sum()) - 250) <= 10  # sum 1


@pytest.mark.slow
def test_memory_bounded_on_large_scene(tmp_path, tiny_model, monkeypatch):
    """Streaming by 32 px blocks (24 px windows, stride 24, so windows
    straddle block seams): on a 192 x 192 scene (6 x 6 blocks) the peak of
    the traced Python / NumPy allocations of the whole run (reading,
    inference, stitching, class and score COG writing; the quick-look is
    left out, it reads a preview of bounded size) stays under 3 MiB (2.3
    MiB measured), below the 5.6 MiB the scene's float32 input alone would
    take. The only part that grows with the scene is the row of window
    outputs kept for the next block row (its width / stride windows of
    K x 24 x 24 float32): from a 64 px to the 192 px scene the peak grows
    by less than (192 / 24 + 1) such windows, 394 KB. (Torch's own
    allocations are not traced; they depend on the batch size only.)"""
    import mmexact.geo.crop_map as crop_map
    monkeypatch.setattr(crop_map, 'write_quicklook', lambda *a, **k: None)
    cfg, ckpt = tiny_model
    model = init_model(cfg, ckpt, cfg_options={
        'test_dataloader.dataset.pipeline.2.max_seq_len': 4})
    inf = SITSInferencer(model, block_size=32, stride=24)
    peaks = {}
    for size in (64, 192):
        rng = np.random.default_rng(size)
        img = rng.integers(1, 6000, (4, 10, size, size)).astype(np.int16)
        folder = str(tmp_path / f's{size}')
        write_series(folder, img, DATES[:4])
        del img
        tracemalloc.start()
        try:
            with open_scene(folder, inf.bands, max_seq_len=4) as scene:
                write_crop_map(inf, scene, str(tmp_path / f'o{size}'),
                               save_scores=True, progress=False)
            peaks[size] = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    scene_input = 4 * 10 * 192 * 192 * 4
    assert peaks[192] < 3 * 2**20 < scene_input
    assert peaks[192] - peaks[64] < (192 // 24 + 1) * 19 * 24 * 24 * 4


@pytest.mark.e2e
def test_cli_errors_name_the_file(tmp_path, tiny_model):
    cfg, ckpt = tiny_model
    (tmp_path / 'empty').mkdir()
    run = subprocess.run(
        [sys.executable, osp.join(REPO, 'tools', 'infer.py'), cfg, ckpt,
         str(tmp_path / 'empty'), '--out-dir', str(tmp_path / 'o')],
        capture_output=True, text=True, timeout=300)
    assert run.returncode == 1
    assert f'error: {tmp_path / "empty"}: no GeoTIFF' in run.stderr
    folder = tmp_path / 'long'
    write_series(str(folder), np.ones((7, 10, 24, 24), np.int16),
                 [datetime.date(2019, m, 1) for m in range(1, 8)])
    with pytest.raises(ValueError, match=r'long: 7 dates, but the model '
                       'takes at most 6'):
        infer.main([cfg, ckpt, str(folder), '--out-dir', str(tmp_path / 'o'),
                    '--date-selection', 'error', '--no-progress'])
    rep = infer.main([cfg, ckpt, str(folder), '--out-dir',
                      str(tmp_path / 'o'), '--no-progress'])
    assert len(rep['scene']['dates']) == 6  # clearest 6 of 7 (all clear:
    assert rep['scene']['dates'][-1] == '2019-06-01'  # the earliest 6)
    write_geotiff(str(folder / 'S2_20190801.tif'), np.ones((10, 24, 24)),
                  dtype='uint8')
    with pytest.raises(ValueError, match=r'S2_20190801\.tif: data type '
                       'uint8'):
        infer.main([cfg, ckpt, str(folder), '--out-dir', str(tmp_path / 'o'),
                    '--no-progress'])


@pytest.mark.e2e
def test_tool_on_stac_catalog_equals_folder(tmp_path, tiny_model):
    """A static STAC catalog whose items point at the per-date files (one
    10-band asset with eo:bands, one SCL asset) gives the class map of the
    folder input; the STAC options build the search."""
    cfg, ckpt = tiny_model
    _scene(tmp_path / 's2', h=30, w=40)
    links = []
    for d in DATES:
        stem = f'S2_{d:%Y%m%d}'
        item = dict(
            type='Feature', stac_version='1.0.0', id=stem, geometry=None,
            properties=dict(datetime=f'{d}T10:30:00Z'), links=[],
            assets=dict(
                image=dict(href=f'../s2/{stem}.tif', roles=['data'],
                           **{'eo:bands': [dict(name=b) for b in (
                               'B02', 'B03', 'B04', 'B05', 'B06', 'B07',
                               'B08', 'B8A', 'B11', 'B12')]}),
                SCL=dict(href=f'../s2/{stem}_SCL.tif', roles=['data'])))
        (tmp_path / 'cat').mkdir(exist_ok=True)
        (tmp_path / 'cat' / f'{stem}.json').write_text(json.dumps(item))
        links.append(dict(rel='item', href=f'./{stem}.json'))
    (tmp_path / 'cat' / 'catalog.json').write_text(json.dumps(dict(
        type='Catalog', stac_version='1.0.0', id='c', description='c',
        links=links)))
    maps = {}
    for name, src in (('folder', tmp_path / 's2'),
                      ('stac', tmp_path / 'cat' / 'catalog.json')):
        rep = infer.main([cfg, ckpt, '--out-dir', str(tmp_path / name),
                          str(src), '--no-progress'])
        assert rep['scene']['dates'] == [d.isoformat() for d in DATES]
        with rasterio.open(tmp_path / name / 'crop_map.tif') as ds:
            maps[name] = ds.read(1)
            assert ds.transform == from_origin(*UTM31_ORIGIN, 10, 10)
    assert np.array_equal(maps['stac'], maps['folder'])
    args = infer.parse_args([
        cfg, ckpt, '--out-dir', 'o', '--stac-url', 'https://stac.x/v1',
        '--stac-collection', 'sentinel-2-c1-l2a', '--bbox', '3.8', '43.5',
        '3.9', '43.6', '--datetime', '2019-01-01/2019-12-31',
        '--max-cloud-cover', '30', '--stac-max-items', '60'])
    search, _ = scene_source(args.input, args)
    assert search.search_kwargs() == dict(
        collections=['sentinel-2-c1-l2a'], max_items=60,
        bbox=[3.8, 43.5, 3.9, 43.6], datetime='2019-01-01/2019-12-31',
        query={'eo:cloud_cover': {'lte': 30.0}})
    with pytest.raises(SystemExit):
        infer.parse_args([cfg, ckpt, '--out-dir', 'o'])  # no input
