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
from mmexact.geo import PARCEL_RULES, write_crop_map  # noqa: E402
from mmexact.geo.scene_options import (add_scene_arguments,  # noqa: E402
                                       check_scene_arguments,
                                       open_scene_from_args)
from mmexact.structures import SITSDataError  # noqa: E402
from mmexact.utils.malloc_tuning import keep_freed_memory  # noqa: E402


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
    add_scene_arguments(p)
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
    check_scene_arguments(p, args)
    return args


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
        scene = open_scene_from_args(args.input, args, inferencer.bands,
                                     inferencer.max_seq_len)
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
