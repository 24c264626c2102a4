# Copyright (c) mmexact contributors. All rights reserved.
"""Command-line options of a scene input, shared by the tools that read
one (``tools/infer.py``, ``tools/dataset_converters/scene_to_windows.py``),
so that every tool reads a scene by the same rules."""
import argparse
from typing import Optional, Sequence, Tuple, Union

from .dates import DATE_SELECTIONS
from .scene import DEFAULT_SCL_INVALID, GeoTIFFScene, open_scene
from .stac import StacSearch

__all__ = [
    'add_scene_arguments', 'check_scene_arguments', 'open_scene_from_args',
    'scene_source'
]


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


def add_scene_arguments(parser: argparse.ArgumentParser,
                        date_selection: str = 'clearest'
                        ) -> argparse._ArgumentGroup:
    """Add the ``input`` and ``STAC`` option groups (all but the input
    path).

    Args:
        parser (argparse.ArgumentParser): The tool's parser.
        date_selection (str): Default of ``--date-selection``.

    Returns:
        The argument group, for more options of the tool.
    """
    g = parser.add_argument_group('input')
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
                   default=date_selection, help='rule for series longer '
                   "than the model's max_seq_len (default: "
                   f'{date_selection})')
    g = parser.add_argument_group(
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
    return g


def check_scene_arguments(parser: argparse.ArgumentParser,
                          args: argparse.Namespace) -> None:
    """Exactly one of INPUT (``args.input``) and ``--stac-url``; a search
    needs ``--bbox``."""
    if (args.input is None) == (args.stac_url is None):
        parser.error('give either INPUT or --stac-url')
    if args.stac_url and args.bbox is None:
        parser.error('--stac-url needs --bbox')


def scene_source(path: Optional[str], args: argparse.Namespace
                 ) -> Tuple[Union[str, StacSearch], dict]:
    """What :func:`open_scene` opens: ``path`` (a folder, index, stack or
    STAC JSON, cropped to ``--bbox`` if given), or, when it is None, the
    STAC API search of the ``--stac-*`` options.

    Returns:
        tuple: The source and the extra keyword arguments of
        :func:`open_scene` (``bbox``).
    """
    if path is not None:
        return path, (dict(bbox=args.bbox) if args.bbox else {})
    return StacSearch(
        url=args.stac_url, collections=args.stac_collection, bbox=args.bbox,
        datetime=args.datetime, max_cloud_cover=args.max_cloud_cover,
        max_items=args.stac_max_items), {}


def open_scene_from_args(path: Optional[str], args: argparse.Namespace,
                         model_bands: Sequence[str],
                         max_seq_len: Optional[int] = None) -> GeoTIFFScene:
    """:func:`open_scene` of :func:`scene_source` with the options of
    :func:`add_scene_arguments`."""
    source, kwargs = scene_source(path, args)
    return open_scene(
        source, model_bands, dates=args.dates, bands=args.bands,
        mask=args.mask, mask_type=args.mask_type, scale=args.scale,
        offset=args.offset, nodata=args.nodata,
        scl_invalid=args.scl_invalid,
        ignore_extra_bands=args.ignore_extra_bands,
        max_seq_len=max_seq_len, date_selection=args.date_selection,
        **kwargs)
