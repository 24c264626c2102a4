# Copyright (c) mmexact contributors. All rights reserved.
"""Acquisition dates of GeoTIFF time series: parsing, index files and the
date-selection rule."""
import csv
import datetime
import json
import os.path as osp
import re
from typing import List, Optional, Sequence

import numpy as np

from ..structures import SITSDataError

__all__ = [
    'DATE_SELECTIONS', 'L2A_OFFSET_DATE', 'parse_date', 'date_from_name',
    'read_index', 'read_date_list', 'select_dates'
]

#: Rules for series longer than the model's ``max_seq_len``.
DATE_SELECTIONS = ('clearest', 'first', 'error')

#: First day of ESA's processing baseline 04.00, from which Sentinel-2 L2A
#: digital numbers carry ``BOA_ADD_OFFSET = -1000``.
L2A_OFFSET_DATE = datetime.date(2022, 1, 25)

_NAME_DATE = re.compile(r'(?<!\d)((?:19|20)\d\d)-?([01]\d)-?([0-3]\d)(?!\d)')


def parse_date(text: str, source: str = '') -> datetime.date:
    """``YYYY-MM-DD`` / ``YYYYMMDD`` (optionally ``T...`` after) -> date.

    Args:
        text (str): The date text.
        source (str): File named in the error message.

    Raises:
        SITSDataError: Not a valid calendar date.
    """
    match = re.fullmatch(r'\s*(\d{4})-?(\d{2})-?(\d{2})(?:[T ].*)?\s*',
                         str(text))
    try:
        if match is None:
            raise ValueError('not YYYY-MM-DD or YYYYMMDD')
        return datetime.date(*map(int, match.groups()))
    except ValueError as exc:
        where = f'{source}: ' if source else ''
        raise SITSDataError(f'{where}cannot parse the date {text!r} '
                            f'({exc})') from None


def date_from_name(path: str) -> datetime.date:
    """The first ``YYYYMMDD`` or ``YYYY-MM-DD`` in a file name.

    Sentinel-2 product names (``S2A_MSIL2A_20190105T105421_...``), tile
    names (``T31TFJ_20190105_....tif``) and plain dates
    (``2019-01-05.tif``) all work; the first valid date wins.

    Raises:
        SITSDataError: No valid date in the name (the message names the
        file and how to fix it).
    """
    name = osp.basename(path)
    for match in _NAME_DATE.finditer(name):
        try:
            return datetime.date(*map(int, match.groups()))
        except ValueError:
            continue
    raise SITSDataError(
        f'{path}: cannot parse an acquisition date (YYYYMMDD or '
        'YYYY-MM-DD) from the file name; rename the file or list the '
        'files and dates in an index CSV/JSON')


def _index_rows(path: str) -> List[dict]:
    if path.lower().endswith('.json'):
        try:
            with open(path) as f:
                data = json.load(f)
        except (OSError, json.JSONDecodeError) as exc:
            raise SITSDataError(f'{path}: cannot read the index ({exc})'
                                ) from None
        if isinstance(data, dict) and any(
                k in data for k in ('type', 'stac_version', 'features')):
            raise SITSDataError(
                f'{path}: neither an index nor a STAC JSON (a STAC Catalog'
                ' / Collection / Item needs "stac_version", an '
                'ItemCollection is a FeatureCollection of items; got "type"'
                f' {data.get("type")!r})')
        if isinstance(data, dict):  # {path: date}
            return [dict(path=k, date=v) for k, v in data.items()]
        if isinstance(data, list) and all(isinstance(r, dict) for r in data):
            return data
        raise SITSDataError(f'{path}: the index must be a list of '
                            '{"path", "date"[, "mask"]} objects or a '
                            '{path: date} mapping (or a STAC Catalog / '
                            'ItemCollection)')
    try:
        with open(path, newline='') as f:
            return list(csv.DictReader(f))
    except (OSError, csv.Error, UnicodeDecodeError) as exc:
        raise SITSDataError(f'{path}: cannot read the index ({exc})'
                            ) from None


def read_index(path: str) -> List[dict]:
    """An index of per-date files: CSV (header ``path,date[,mask]``) or
    JSON (a list of such objects, or ``{path: date}``).

    Relative paths are relative to the index file.

    Returns:
        list[dict]: ``path``, ``date`` (datetime.date), ``mask`` (or None),
        in file order.
    """
    rows = _index_rows(path)
    if not rows:
        raise SITSDataError(f'{path}: the index lists no files')
    root = osp.dirname(osp.abspath(path))
    out = []
    for n, row in enumerate(rows, 2 if not path.endswith('.json') else 1):
        row = {str(k).strip().lower(): v for k, v in row.items()
               if k is not None}
        file = row.get('path') or row.get('file')
        if not file or not row.get('date'):
            raise SITSDataError(f'{path}: entry {n} needs "path" and '
                                '"date"')
        mask = row.get('mask') or None
        out.append(dict(
            path=osp.join(root, str(file).strip()),
            date=parse_date(row['date'], f'{path} (entry {n})'),
            mask=osp.join(root, str(mask).strip()) if mask else None))
    return out


def read_date_list(value: str) -> List[datetime.date]:
    """Dates of a stack: a text file (one per line, or CSV/JSON list) or a
    comma-separated string."""
    if osp.isfile(value):
        with open(value) as f:
            text = f.read()
        if value.lower().endswith('.json'):
            try:
                items = json.loads(text)
            except json.JSONDecodeError as exc:
                raise SITSDataError(f'{value}: not JSON ({exc})') from None
        else:
            items = [x for x in re.split(r'[\s,;]+', text) if x]
            if items and items[0].lower() == 'date':  # CSV header
                items = items[1:]
        return [parse_date(x, value) for x in items]
    return [parse_date(x, '--dates') for x in value.split(',') if x.strip()]


def select_dates(dates: Sequence[datetime.date],
                 clear: Sequence[float],
                 max_len: Optional[int],
                 rule: str = 'clearest',
                 source: str = '') -> np.ndarray:
    """Indices of the dates to keep when a series is too long.

    Frames are first ordered by day of year (the order the training
    loader gives; stable for equal days). Nothing is dropped when
    ``len(dates) <= max_len`` (shorter series are padded by the model's
    pipeline). Otherwise:

    - ``'clearest'``: the ``max_len`` dates with the largest clear
      fraction ``clear`` (valid and unmasked pixels of the scene); ties go
      to the earlier date;
    - ``'first'``: the first ``max_len`` frames in day-of-year order, i.e.
      what the model's ``PadOrCutSequence`` keeps;
    - ``'error'``: refuse the series.

    Args:
        dates (Sequence[datetime.date]): Acquisition dates.
        clear (Sequence[float]): Clear fraction of each date, 0..1.
        max_len (int, optional): The model's ``max_seq_len``.
        rule (str): One of :data:`DATE_SELECTIONS`.
        source (str): Named in the error.

    Returns:
        np.ndarray: Indices into ``dates`` in day-of-year order.
    """
    if rule not in DATE_SELECTIONS:
        raise ValueError(f'date selection must be one of {DATE_SELECTIONS},'
                         f' got {rule!r}')
    dates = list(dates)
    doy = np.array([d.timetuple().tm_yday for d in dates])
    chrono = np.array([d.toordinal() for d in dates])
    order = np.lexsort((chrono, doy))  # day of year, then chronology
    if max_len is None or len(dates) <= max_len:
        return order
    if rule == 'error':
        raise SITSDataError(
            f'{source}: {len(dates)} dates, but the model takes at most '
            f'{max_len}; remove dates or choose a date selection rule '
            '(clearest, first)')
    if rule == 'first':
        return order[:max_len]
    clear = np.asarray(clear, np.float64)
    best = np.lexsort((chrono, -clear))[:max_len]
    keep = np.zeros(len(dates), bool)
    keep[best] = True
    return order[keep[order]]
