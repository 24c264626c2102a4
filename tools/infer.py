# Copyright (c) mmexact contributors. All rights reserved.
"""Crop map of your own region: a trained SITS model on a Sentinel-2 L2A
GeoTIFF time series of any size.

INPUT is a folder of per-date GeoTIFFs (date from the file name;
``<name>_SCL.tif`` / ``<name>_mask.tif`` beside an image are its masks),
an index CSV/JSON (``path,date[,mask]``), one multi-band stack with
``--dates``, a STAC JSON (static catalog or ItemCollection of Sentinel-2
items), or, without INPUT, a STAC API search (``--stac-url``). Writes
into ``--out-dir``: ``<name>.tif`` (class map, COG), ``<name>.png``
(quick-look), optionally ``<name>_scores.tif`` and
``<name>_parcels.gpkg``, and ``<name>.json`` (report with throughput).

Example::

    python tools/infer.py \\
        configs/exact/exact-stage2_tsvit_1xb48-100e_pastis24-24x24.py \\
        work_dirs/stage2/best.pth data/my_tile/ --out-dir maps/my_tile \\
        --parcels data/lpis.gpkg --save-scores

    python tools/infer.py CONFIG CHECKPOINT --out-dir maps/montpellier \\
        --stac-url https://earth-search.aws.element84.com/v1 \\
        --bbox 3.80 43.55 3.90 43.62 --datetime 2019-01-01/2019-12-31 \\
        --max-cloud-cover 30
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import mmexact  # noqa: E402,F401  (registers components, checkpoint fix)
import rasterio  # noqa: E402
import torch  # noqa: E402
from mmengine.config import DictAction  # noqa: E402

from mmexact.apis import SITSInferencer, init_model  # noqa: E402
from mmexact.geo import (DATE_SELECTIONS, DEFAULT_SCL_INVALID,  # noqa: E402
                         PARCEL_RULES, StacSearch, open_scene,
                         write_crop_map)
from mmexact.structures import SITSDataError  # noqa: E402
from mmexact.utils.malloc_tuning import keep_freed_memory  # noqa: E402


def _offset(value: str):
    if value == 'auto':
        return value
    try:
        return float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f'--offset must be "auto" or a number, got {value!r}') from None


def _nodata(value: str):
    if value in ('auto', 'none'):
        return value
    try:
        return float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f'--nodata must be auto, none or a number, got {value!r}'
        ) from None


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description='Crop map of a Sentinel-2 GeoTIFF time series')
    p.add_argument('config', help='model config')
    p.add_argument('checkpoint', help='checkpoint (.pth)')
    p.add_argument('input', nargs='?', help='folder of per-date GeoTIFFs, '
                   'index .csv/.json, one stack .tif (with --dates), or a '
                   'STAC JSON (catalog.json / ItemCollection); leave out '
                   'with --stac-url')
    p.add_argument('--out-dir', required=True, help='output folder')
    p.add_argument('--name', default='crop_map',
                   help='output file stem (default: crop_map)')
    g = p.add_argument_group('input')
    g.add_argument('--dates', help='stack dates: a file (one per line) or '
                   'YYYY-MM-DD,YYYY-MM-DD,...')
    g.add_argument('--bands', nargs='+', help='names of each date\'s bands '
                   'in file order (default: the band descriptions)')
    g.add_argument('--ignore-extra-bands', action='store_true',
                   help='skip bands the model does not use instead of '
                   'refusing the file')
    g.add_argument('--mask', help='stack only: one mask band per date')
    g.add_argument('--mask-type', choices=['auto', 'scl', 'binary'],
                   default='auto', help='auto: SCL if the mask name says '
                   'SCL, else binary (non-zero = cloud)')
    g.add_argument('--scl-invalid', nargs='+', type=int,
                   default=list(DEFAULT_SCL_INVALID),
                   help='SCL classes that become no-data (default: 0 1 3 8 '
                   '9 10)')
    g.add_argument('--scale', type=float, default=10000.,
                   help='input units per reflectance unit (default 10000: '
                   'L2A digital numbers; 1: reflectances)')
    g.add_argument('--offset', type=_offset, default='auto',
                   help='added to the input before scaling; auto: -1000 x '
                   'scale/10000 for integer data acquired from 2022-01-25 '
                   '(processing baseline 04.00), else 0')
    g.add_argument('--nodata', type=_nodata, default='auto',
                   help="input no-data value; auto: the file's, else 0 for"
                   ' integer data; none: no no-data value')
    g.add_argument('--date-selection', choices=DATE_SELECTIONS,
                   default='clearest', help='rule for series longer than '
                   'the model\'s max_seq_len (default: clearest)')
    g = p.add_argument_group(
        'STAC', 'search a STAC API instead of INPUT (one Sentinel-2 L2A '
        'item per date; bands and SCL from the item assets)')
    g.add_argument('--stac-url', help='STAC API root, e.g. https://earth-'
                   'search.aws.element84.com/v1')
    g.add_argument('--stac-collection', nargs='+',
                   default=['sentinel-2-l2a'],
                   help='collection(s) searched (default: sentinel-2-l2a)')
    g.add_argument('--bbox', nargs=4, type=float,
                   metavar=('WEST', 'SOUTH', 'EAST', 'NORTH'),
                   help='degrees (WGS 84): the search area, and the scene '
                   'is cropped to it (also for a STAC JSON INPUT)')
    g.add_argument('--datetime', help='acquisition date or range, e.g. '
                   '2019-01-01/2019-12-31')
    g.add_argument('--max-cloud-cover', type=float,
                   help='only items with eo:cloud_cover <= this (%%)')
    g.add_argument('--stac-max-items', type=int, default=200,
                   help='query limit: at most this many items (default: '
                   '200)')
    g = p.add_argument_group('inference')
    g.add_argument('--window', type=int, help='window size (default: the '
                   "model's input size)")
    g.add_argument('--stride', type=int, help='window step (default: the '
                   "config's slide stride, else 2/3 of the window)")
    g.add_argument('--weighting', choices=SITSInferencer.WEIGHTINGS,
                   default='uniform', help='stitching weights of the '
                   'overlapping windows (default: uniform, = slide '
                   'inference)')
    g.add_argument('--batch-size', type=int, default=16,
                   help='windows per forward pass (default: 16)')
    g.add_argument('--block-size', type=int, default=256,
                   help='output block side (default: 256); input memory '
                   '<= dates x bands x (block + 2 window)^2 x 4 bytes')
    g.add_argument('--image-labels', nargs='+', type=int,
                   help='CAM (stage-1) models: the crop classes present; '
                   'default: predicted per window')
    g.add_argument('--bg-threshold', type=float,
                   help='CAM (stage-1) models: background score theta')
    g.add_argument('--device',
                   default='cuda' if torch.cuda.is_available() else 'cpu',
                   help='torch device (default: cuda if available)')
    g.add_argument('--gdal-cache-mb', type=int, default=256,
                   help="GDAL's raster block cache (default: 256)")
    g = p.add_argument_group('outputs')
    g.add_argument('--save-scores', action='store_true',
                   help='also write the per-class scores')
    g.add_argument('--scores-dtype', choices=['float32', 'uint8'],
                   default='float32', help='uint8: round(score x 250), '
                   '255 = no data (default: float32, NaN = no data)')
    g.add_argument('--parcels', help='polygons (GeoPackage, GeoJSON, '
                   'Shapefile; any CRS) to label')
    g.add_argument('--parcels-layer', help='layer of --parcels')
    g.add_argument('--parcel-rule', choices=PARCEL_RULES,
                   default='majority', help='majority: most frequent class, '
                   'confidence its share; mean_score: class of highest '
                   'mean score, confidence that mean (default: majority)')
    g.add_argument('--quicklook-size', type=int, default=800,
                   help='long side of the PNG map in pixels (default: 800)')
    g.add_argument('--title', help='quick-look title (default: the input '
                   'name)')
    g.add_argument('--no-progress', action='store_true')
    p.add_argument('--cfg-options', nargs='+', action=DictAction,
                   help='override settings of the config, key=value')
    # intermixed: INPUT (optional) may come after the options, as before
    args = p.parse_intermixed_args(argv)
    if (args.input is None) == (args.stac_url is None):
        p.error('give either INPUT or --stac-url')
    if args.stac_url and args.bbox is None:
        p.error('--stac-url needs --bbox')
    return args


def _scene_input(args):
    """INPUT, or the STAC search of the --stac-* options."""
    if args.stac_url is None:
        return args.input
    return StacSearch(
        url=args.stac_url, collections=args.stac_collection, bbox=args.bbox,
        datetime=args.datetime, max_cloud_cover=args.max_cloud_cover,
        max_items=args.stac_max_items)


def main(argv=None) -> dict:
    args = parse_args(argv)
    model = init_model(args.config, args.checkpoint, args.device,
                       args.cfg_options)
    inferencer = SITSInferencer(
        model, batch_size=args.batch_size, window=args.window,
        stride=args.stride, weighting=args.weighting,
        block_size=args.block_size, image_labels=args.image_labels,
        bg_threshold=args.bg_threshold)
    with rasterio.Env(GDAL_CACHEMAX=args.gdal_cache_mb * 2**20):
        source = _scene_input(args)
        stac_kw = dict(bbox=args.bbox) if args.bbox and \
            isinstance(source, str) else {}
        scene = open_scene(
            source, inferencer.bands, dates=args.dates,
            bands=args.bands, mask=args.mask, mask_type=args.mask_type,
            scale=args.scale, offset=args.offset, nodata=args.nodata,
            scl_invalid=args.scl_invalid,
            ignore_extra_bands=args.ignore_extra_bands,
            max_seq_len=inferencer.max_seq_len,
            date_selection=args.date_selection, **stac_kw)
        with scene:
            for msg in scene.warnings:
                print(f'warning: {msg}', flush=True)
            print(f'{scene.name}: {scene.width} x {scene.height} px, '
                  f'{len(scene.dates)} dates ({min(scene.dates)} .. '
                  f'{max(scene.dates)}), '
                  f'{inferencer.num_windows(scene.height, scene.width)} '
                  'windows', flush=True)
            report = write_crop_map(
                inferencer, scene, args.out_dir, args.name,
                save_scores=args.save_scores,
                scores_dtype=args.scores_dtype, parcels=args.parcels,
                parcels_layer=args.parcels_layer,
                parcel_rule=args.parcel_rule,
                progress=not args.no_progress,
                quicklook_size=args.quicklook_size,
                title=args.title or (osp.basename(osp.normpath(args.input))
                                     if args.input else 'STAC search'))
    tp = report['throughput']
    print(f"{tp['km2']:.2f} km2 in {tp['seconds']:.1f} s: "
          f"{tp['km2_per_hour']:.1f} km2/h ({tp['pixels_per_s']:.0f} px/s, "
          f"peak RSS {tp['peak_rss_mib']:.0f} MiB)")
    if report['parcels'] is not None:
        par = report['parcels']
        print(f"parcels: {par['total']}, by status {par['status']}")
        missing = par['total'] - par['status'].get('ok', 0) - \
            par['status'].get('partly_outside', 0)
        if missing:
            print(f'warning: {missing} parcel(s) got no label (see '
                  'pred_status), e.g. rows '
                  f"{par['not_labelled_rows'][:10]}")
    for key, path in report['outputs'].items():
        print(f'{key}: {path}')
    return report


if __name__ == '__main__':
    # glibc keeps freed memory for reuse (no page faults per batch; the
    # process keeps its peak heap, see mmexact.utils.malloc_tuning)
    keep_freed_memory()
    try:
        main()
    except (SITSDataError, FileNotFoundError) as exc:
        sys.exit(f'error: {exc}')
