# Copyright (c) mmexact contributors. All rights reserved.
"""Training set of your own region: a Sentinel-2 scene + parcels and / or
image-level labels -> windows split by spatial blocks, with band
statistics and a class table from the training split.

The scene is read exactly as ``tools/infer.py`` reads it (same input
forms and options). Labels:

- ``--parcels FILE --crop-column COL``: polygons (any format and CRS GDAL
  reads) with a crop attribute -> pixel labels (fully supervised; pixels
  in no parcel are background) and image labels (a crop covering more
  than ``--min-fraction`` of a window);
- ``--image-labels FILE --crops-column COL``: polygons or grid cells, each
  listing the crops that occur in it (``"wheat;maize"``) -> image labels
  only (a window takes the crops of the cells it overlaps). With
  ``--parcels`` as well, those parcels are pixel truth for selecting the
  CAM threshold and for evaluation (pixels outside them are ignored).

Values are mapped to classes by ``--nomenclature`` (CSV ``value,class
[,color]`` or YAML ``{value: class}``; ``ignore`` drops a value).

Example::

    python tools/dataset_converters/scene_to_windows.py data/my_tile/s2 \\
        data/my_region --nomenclature crops.csv \\
        --image-labels survey_cells.gpkg --crops-column crops
"""
import argparse
import glob
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(
    __file__)))))

import rasterio  # noqa: E402

from mmexact.geo.region_labels import (read_nomenclature,  # noqa: E402
                                       read_vector, rasterize_cells,
                                       rasterize_parcels)
from mmexact.geo.scene_options import (add_scene_arguments,  # noqa: E402
                                       check_scene_arguments,
                                       open_scene_from_args)
from mmexact.geo.training_set import SPLITS, write_training_set  # noqa: E402
from mmexact.structures import S2_BANDS, SITSDataError  # noqa: E402
from mmexact.utils.region_config import write_region_configs  # noqa: E402

#: the shipped own-region configs, written ready for the region
REGION_CONFIGS = sorted(glob.glob(osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs',
    'own_region', '*.py')))


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0].replace('\n', ' '),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('input', nargs='?', help='folder of per-date GeoTIFFs, '
                   'index .csv/.json, one stack .tif (with --dates) or a '
                   'STAC JSON; leave out with --stac-url')
    p.add_argument('out_dir', help='output root (the data_root of the '
                   'own-region configs)')
    p.add_argument('--nomenclature', required=True,
                   help='CSV value,class[,color] or YAML {value: class}')
    g = p.add_argument_group('labels')
    g.add_argument('--parcels', help='parcels with a crop attribute')
    g.add_argument('--parcels-layer')
    g.add_argument('--crop-column', help='crop attribute of --parcels')
    g.add_argument('--outside', choices=['auto', 'background', 'ignore'],
                   default='auto', help='label of pixels in no parcel; '
                   'auto: background, or ignore with --image-labels')
    g.add_argument('--image-labels', help='polygons / grid cells listing '
                   'their crops')
    g.add_argument('--image-labels-layer')
    g.add_argument('--crops-column', help='crop list attribute of '
                   '--image-labels')
    g.add_argument('--crops-sep', default=';',
                   help='separator of the crop lists (default: ;)')
    g.add_argument('--min-fraction', type=float, default=0.01,
                   help='image labels from parcels: a crop is present if '
                   'it covers more than this share of a window (0.01, '
                   "Exact's rule)")
    g = p.add_argument_group('windows and splits')
    g.add_argument('--model-bands', nargs='+', default=list(S2_BANDS),
                   help='bands the model reads, in channel order (default:'
                   ' the 10 PASTIS bands)')
    g.add_argument('--window', type=int, default=24)
    g.add_argument('--stride', type=int, help='window step (default: the '
                   'window: no overlap)')
    g.add_argument('--block-size', type=int, default=240,
                   help='side of the spatial blocks that are split whole '
                   '(pixels, default 240 = 2.4 km at 10 m)')
    g.add_argument('--split-ratios', type=float, nargs=3,
                   default=[0.6, 0.2, 0.2], metavar=('TRAIN', 'VAL', 'TEST'))
    g.add_argument('--seed', type=int, default=0)
    g.add_argument('--block-file', help='an edited blocks.csv (split per '
                   'block: train, val, test or none) instead of the random '
                   'split')
    p.add_argument('--no-configs', action='store_true',
                   help='do not write the own-region configs for this '
                   'region into OUT_DIR/configs/')
    add_scene_arguments(p, date_selection='first')
    args = p.parse_intermixed_args(argv)
    check_scene_arguments(p, args)
    if args.parcels is None and args.image_labels is None:
        p.error('give --parcels and / or --image-labels')
    if args.parcels and not args.crop_column:
        p.error('--parcels needs --crop-column')
    if args.image_labels and not args.crops_column:
        p.error('--image-labels needs --crops-column')
    return args


def _print_counts(region: dict) -> None:
    for split in SPLITS:
        c = region['counts'][split]
        n_img, n_truth = c['windows_with_image_labels'], \
            c['windows_with_truth']
        print(f"{split}: {c['windows']} windows ({n_img} with image "
              f'labels, {n_truth} with pixel truth)')
        img = {k: v for k, v in c['image_labels'].items() if v}
        pix = {k: v for k, v in c['pixels'].items() if v}
        print(f'  windows per crop: {img}')
        if pix:
            print(f'  truth pixels per class: {pix}')


def main(argv=None) -> dict:
    args = parse_args(argv)
    nom = read_nomenclature(args.nomenclature)
    scene = open_scene_from_args(args.input, args, args.model_bands)
    warnings, labels = [], {}
    with scene:
        for msg in scene.warnings:
            print(f'warning: {msg}')
        shape = (scene.height, scene.width)
        crs, transform = scene.profile['crs'], scene.profile['transform']
        print(f'{scene.name}: {scene.width} x {scene.height} px, '
              f'{len(scene.dates)} dates, classes {nom.classes[1:]}')
        pixel = rows = cells = None
        if args.parcels:
            outside = args.outside
            if outside == 'auto':
                outside = 'ignore' if args.image_labels else 'background'
            gdf = read_vector(args.parcels, args.parcels_layer,
                              [args.crop_column], crs, 'parcels')
            pixel, rep = rasterize_parcels(gdf, args.crop_column, nom,
                                           transform, shape, outside)
            rows = rep.pop('parcel_rows')
            labels['parcels'] = dict(rep, file=args.parcels,
                                     outside=outside)
            if rep['outside_scene']:
                warnings.append(
                    f"{args.parcels}: {len(rep['outside_scene'])} parcel(s) "
                    'outside the scene, e.g. rows '
                    f"{rep['outside_scene'][:10]}")
            if rep['unmapped']:
                warnings.append(
                    f"{args.parcels}: {rep['unmapped_parcels']} parcel(s) "
                    f"with values not in {args.nomenclature} (ignored): "
                    f"{rep['unmapped']}")
            if rep['conflict_pixels']:
                warnings.append(
                    f"{args.parcels}: {rep['conflict_pixels']} pixel(s) "
                    'covered by overlapping parcels of different crops '
                    '(ignored)')
        if args.image_labels:
            gdf = read_vector(args.image_labels, args.image_labels_layer,
                              [args.crops_column], crs, 'image-label cells')
            raster, vecs, rep = rasterize_cells(
                gdf, args.crops_column, nom, transform, shape,
                args.crops_sep)
            cells = (raster, vecs)
            labels['image_labels'] = dict(rep, file=args.image_labels)
            if rep['outside_scene']:
                warnings.append(
                    f"{args.image_labels}: {len(rep['outside_scene'])} "
                    'cell(s) outside the scene, e.g. rows '
                    f"{rep['outside_scene'][:10]}")
            if rep['unmapped']:
                warnings.append(
                    f'{args.image_labels}: crops not in {args.nomenclature}'
                    f" (dropped from the lists): {rep['unmapped']}")
            if rep['empty']:
                warnings.append(
                    f"{args.image_labels}: {len(rep['empty'])} cell(s) "
                    'list no known crop (their windows are labelled "no '
                    f"crop\"), e.g. rows {rep['empty'][:10]}")
        for msg in warnings:
            print(f'warning: {msg}')
        region = write_training_set(
            scene, args.out_dir, nom, args.model_bands, pixel_labels=pixel,
            cells=cells, window=args.window, stride=args.stride,
            block_size=args.block_size, ratios=args.split_ratios,
            seed=args.seed, block_file=args.block_file,
            min_fraction=args.min_fraction, parcel_rows=rows,
            report=dict(labels, warnings=warnings))
    _print_counts(region)
    print(f'written to {args.out_dir} (region.json, classes.json, '
          'norm.json, blocks.csv, splits/)')
    if not args.no_configs:
        for src, dst in write_region_configs(args.out_dir,
                                             REGION_CONFIGS).items():
            print(f'config: {dst} (from {osp.relpath(src)})')
    return region


if __name__ == '__main__':
    try:
        with rasterio.Env():
            main()
    except (SITSDataError, FileNotFoundError) as exc:
        sys.exit(f'error: {exc}')
