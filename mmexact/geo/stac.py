# Copyright (c) mmexact contributors. All rights reserved.
"""STAC items (a static catalog, an ItemCollection or a STAC API search) as
a source of the scene reader.

Each Sentinel-2 STAC item (one date) has one asset per band at 10, 20 or
60 m. :func:`stac_entries` writes one small GDAL VRT per item that stacks
the model's bands, in model order, on one 10 m grid (coarser bands are
resampled **nearest**: each 20 m pixel becomes 2 x 2 equal 10 m pixels,
digital numbers unchanged), with the canonical band descriptions
(``B02`` ... ``B8A``, ``B11``, ``B12``), and a second VRT of the SCL asset
(nearest, on the same grid) as the date's ``scl`` mask. The entries go
through the same path as an index file in :func:`mmexact.geo.open_scene`,
so one reader (:class:`mmexact.geo.GeoTIFFScene`) reads every input.
Needs ``pystac`` (and ``pystac-client`` for searches).
"""
import datetime
import json
import os
import os.path as osp
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..structures import SITSDataError, canonical_band
from .dates import L2A_OFFSET_DATE

__all__ = [
    'StacSearch', 'is_stac_json', 'read_stac_items', 'search_stac',
    'stac_entries'
]

_STAC_TYPES = ('Catalog', 'Collection', 'FeatureCollection', 'Feature')
_GDAL_TYPES = {
    'uint8': 'Byte', 'int8': 'Int8', 'uint16': 'UInt16', 'int16': 'Int16',
    'uint32': 'UInt32', 'int32': 'Int32', 'float32': 'Float32',
    'float64': 'Float64'
}
_ALLOWED_DTYPES = ('uint16', 'int16', 'uint32', 'int32', 'float32',
                   'float64')
_SKIP_ROLES = {'thumbnail', 'overview', 'visual', 'metadata'}


@dataclass
class StacSearch:
    """A STAC API search for the items of one scene (``pystac-client``).

    Args:
        url (str): The API root (e.g.
            ``https://earth-search.aws.element84.com/v1``).
        collections (Sequence[str]): Collections searched. Defaults to
            ``('sentinel-2-l2a', )``.
        bbox (Sequence[float], optional): ``(west, south, east, north)`` in
            degrees (WGS 84); the scene is also cropped to it (``crop``).
        datetime (str, optional): A date or range
            (``2019-01-01/2019-12-31``).
        max_cloud_cover (float, optional): Items with ``eo:cloud_cover``
            above it (in %) are not searched.
        max_items (int, optional): Query limit: at most this many items.
            Defaults to 200.
        query (dict, optional): More ``query`` terms (e.g.
            ``{'grid:code': {'eq': 'MGRS-31TFJ'}}``).
        crop (bool): Crop the scene to ``bbox``. Defaults to True.
        modifier (Callable, optional): ``Client.open`` modifier (e.g.
            ``planetary_computer.sign_inplace`` to sign the asset hrefs).
    """

    url: str
    collections: Sequence[str] = ('sentinel-2-l2a', )
    bbox: Optional[Sequence[float]] = None
    datetime: Optional[str] = None
    max_cloud_cover: Optional[float] = None
    max_items: Optional[int] = 200
    query: Optional[Dict[str, Any]] = None
    crop: bool = True
    modifier: Optional[Callable] = field(default=None, repr=False)

    def search_kwargs(self) -> dict:
        """Keyword arguments of ``Client.search``."""
        query = dict(self.query or {})
        if self.max_cloud_cover is not None:
            query['eo:cloud_cover'] = {'lte': float(self.max_cloud_cover)}
        kw = dict(collections=list(self.collections), max_items=self.max_items)
        if self.bbox is not None:
            kw['bbox'] = [float(v) for v in self.bbox]
        if self.datetime:
            kw['datetime'] = self.datetime
        if query:
            kw['query'] = query
        return kw

    def __str__(self) -> str:
        parts = [f'collections={",".join(self.collections)}']
        if self.bbox is not None:
            parts.append('bbox=' + ','.join(f'{v:g}' for v in self.bbox))
        if self.datetime:
            parts.append(f'datetime={self.datetime}')
        if self.max_cloud_cover is not None:
            parts.append(f'max_cloud_cover={self.max_cloud_cover:g}')
        return f'STAC search {self.url} ({" ".join(parts)})'


# ----------------------------------------------------------------------
def _stac_kind(data: Any) -> Optional[str]:
    """'Catalog', 'Collection', 'FeatureCollection' or 'Feature' when
    ``data`` looks like a STAC document, else None."""
    if not isinstance(data, dict):
        return None
    kind = data.get('type')
    if kind not in _STAC_TYPES:
        return None
    if kind == 'FeatureCollection':
        feats = data.get('features')
        return kind if isinstance(feats, list) else None
    return kind if 'stac_version' in data else None


def is_stac_json(path: str) -> bool:
    """Whether ``path`` is a STAC JSON (by content, whatever its name):
    a Catalog / Collection, an ItemCollection / GeoJSON FeatureCollection
    or a single Item. Index JSONs (a list or a ``{path: date}`` mapping)
    are not."""
    if not osp.isfile(path):
        return False
    try:
        with open(path, 'rb') as f:
            head = f.read(1)
            while head in (b' ', b'\n', b'\r', b'\t'):
                head = f.read(1)
        if head != b'{':
            return False
        with open(path) as f:
            return _stac_kind(json.load(f)) is not None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False


def _pystac():
    try:
        import pystac
    except ImportError:  # pragma: no cover
        raise ImportError('STAC inputs need pystac: pip install pystac'
                          ) from None
    return pystac


def read_stac_items(path: str) -> list:
    """Items of a static STAC catalog (links followed recursively, with
    relative or absolute hrefs), a collection, an ItemCollection /
    FeatureCollection, or a single Item JSON.

    Args:
        path (str): The JSON file (or an http(s) URL of one).

    Returns:
        list[pystac.Item]: The items, in file order.
    """
    pystac = _pystac()
    remote = path.startswith(('http://', 'https://'))
    try:
        if remote:
            data = pystac.StacIO.default().read_json(path)
        else:
            with open(path) as f:
                data = json.load(f)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SITSDataError(f'{path}: cannot read the STAC JSON ({exc})'
                            ) from None
    kind = _stac_kind(data)
    if kind is None:
        raise SITSDataError(
            f'{path}: not a STAC Catalog, Collection, ItemCollection or '
            'Item (expected "type" and "stac_version")')
    href = path if remote else osp.abspath(path)
    try:
        if kind == 'FeatureCollection':
            bad = [n for n, f in enumerate(data['features'], 1)
                   if not isinstance(f, dict) or 'assets' not in f]
            if bad:
                raise SITSDataError(
                    f'{path}: feature {bad[0]} is not a STAC item (no '
                    '"assets"); a FeatureCollection input must list STAC '
                    'items')
            items = list(pystac.ItemCollection.from_dict(
                data, preserve_dict=False).items)
        elif kind == 'Feature':
            items = [pystac.Item.from_dict(data, href=href,
                                           preserve_dict=False)]
        else:
            cat = pystac.read_dict(data, href=href)
            items = list(cat.get_items(recursive=True))
    except SITSDataError:
        raise
    except Exception as exc:  # pystac: missing links, invalid objects
        raise SITSDataError(f'{path}: cannot read the STAC {kind} '
                            f'({type(exc).__name__}: {exc})') from None
    for it in items:  # relative asset hrefs of an ItemCollection
        if it.get_self_href() is None:
            it.extra_fields.setdefault('_mmexact_base',
                                       osp.dirname(href) if not remote
                                       else href.rsplit('/', 1)[0])
    if not items:
        raise SITSDataError(f'{path}: the STAC {kind} has no items')
    return items


def search_stac(search: StacSearch) -> list:
    """Run a STAC API search (``pystac_client.Client.open(url).search``).

    Returns:
        list[pystac.Item]: The items found (at most ``max_items``).
    """
    try:
        import pystac_client
    except ImportError:  # pragma: no cover
        raise ImportError('STAC searches need pystac-client: pip install '
                          'pystac-client') from None
    try:
        client = pystac_client.Client.open(search.url,
                                           modifier=search.modifier)
        items = list(client.search(**search.search_kwargs()).items())
    except Exception as exc:  # network, API errors
        raise SITSDataError(f'{search}: the search failed '
                            f'({type(exc).__name__}: {exc})') from None
    if not items:
        raise SITSDataError(f'{search}: no items found')
    return items


# ----------------------------------------------------------------------
@dataclass
class _Grid:
    crs: Any
    transform: Any  # affine.Affine
    width: int
    height: int
    dtypes: Tuple[str, ...] = ()
    nodata: Optional[float] = None

    @property
    def res(self) -> float:
        return abs(self.transform.a)


def _label(item) -> str:
    href = item.get_self_href()
    return f'STAC item {item.id}' + (f' ({href})' if href else '')


def _href(item, asset) -> str:
    """Absolute href of an asset, as a GDAL path (remote: /vsicurl/ ...)."""
    href = asset.href
    if not re.match(r'^[a-z][a-z0-9+.-]*://', href) and \
            not osp.isabs(href):
        base = item.get_self_href()
        base = osp.dirname(base) if base else item.extra_fields.get(
            '_mmexact_base', os.getcwd())
        href = (base.rstrip('/') + '/' + href) if '://' in base else \
            osp.normpath(osp.join(base, href))
    if href.startswith('file://'):
        return href[7:]
    for scheme, vsi in (('http://', '/vsicurl/'), ('https://', '/vsicurl/'),
                        ('s3://', '/vsis3/'), ('gs://', '/vsigs/')):
        if href.startswith(scheme):
            return vsi + (href if vsi == '/vsicurl/' else
                          href[len(scheme):])
    return href


def _asset_bands(asset) -> List[dict]:
    """Band objects of an asset (STAC 1.1 ``bands`` or ``eo:bands``)."""
    bands = asset.extra_fields.get('bands')
    if not isinstance(bands, list):
        bands = asset.extra_fields.get('eo:bands')
    return bands if isinstance(bands, list) else []


def _band_of(name: Any) -> Optional[str]:
    if not isinstance(name, str):
        return None
    if name.strip().upper() == 'SCL':
        return 'SCL'
    return canonical_band(name)


def _band_assets(item, label: str) -> Dict[str, Tuple[str, int, str, Any]]:
    """Canonical band -> (GDAL path, 1-based band, asset key, asset)."""
    found: Dict[str, List[tuple]] = {}
    for key, asset in item.assets.items():
        roles = set(asset.roles or [])
        if roles & _SKIP_ROLES and 'data' not in roles:
            continue
        bands = _asset_bands(asset)
        if len(bands) > 1:
            names = [_band_of(b.get('name')) or
                     _band_of(b.get('common_name')) or
                     _band_of(b.get('eo:common_name')) for b in bands]
        else:
            b = bands[0] if bands else {}
            names = [_band_of(b.get('name')) or
                     _band_of(b.get('common_name')) or
                     _band_of(b.get('eo:common_name')) or _band_of(key)]
        media = (asset.media_type or '').lower()
        tiff = 'tiff' in media or (not media and asset.href.lower().endswith(
            ('.tif', '.tiff')))
        for k, name in enumerate(names, 1):
            if name is not None:
                # preference: GeoTIFF (COG) over JPEG 2000, one-band assets
                rank = (0 if tiff else 1, 0 if len(names) == 1 else 1)
                found.setdefault(name, []).append((rank, key, k, asset))
    out = {}
    for name, cands in found.items():
        cands.sort(key=lambda c: c[0])
        if len(cands) > 1 and cands[0][0] == cands[1][0]:
            raise SITSDataError(
                f'{label}: band {name} is given by several assets ('
                f'{", ".join(c[1] for c in cands)}); keep one')
        _, key, k, asset = cands[0]
        out[name] = (_href(item, asset), k, key, asset)
    return out


def _stac_grid(item, asset) -> Optional[_Grid]:
    """The asset's grid from its ``proj:`` / ``raster:bands`` fields, or
    None when they are incomplete."""
    from affine import Affine
    from rasterio.crs import CRS

    def get(key):
        val = asset.extra_fields.get(key)
        return item.properties.get(key) if val is None else val

    # shape and transform of the asset itself (an item-level grid does not
    # tell a 20 m asset's); the CRS may be the item's
    shape = asset.extra_fields.get('proj:shape')
    trans = asset.extra_fields.get('proj:transform')
    code, epsg, wkt = get('proj:code'), get('proj:epsg'), get('proj:wkt2')
    bands = asset.extra_fields.get('raster:bands') or _asset_bands(asset)
    dtype = bands[0].get('data_type') if len(bands) == 1 else None
    if not shape or not trans or len(trans) < 6 or dtype is None or \
            (code is None and epsg is None and wkt is None):
        return None
    crs = CRS.from_user_input(wkt or code or f'EPSG:{int(epsg)}')
    nodata = bands[0].get('nodata')
    return _Grid(crs, Affine(*trans[:6]), int(shape[1]), int(shape[0]),
                 (str(dtype), ), None if nodata is None else float(nodata))


def _grid(item, asset, path: str, label: str, key: str) -> _Grid:
    if not path.startswith('/vsi') and not osp.isfile(path):
        raise SITSDataError(f'{label}: asset {key} ({path}) does not '
                            'exist')
    grid = _stac_grid(item, asset)
    if grid is not None:
        return grid
    import rasterio
    try:
        with rasterio.open(path) as ds:
            return _Grid(ds.crs, ds.transform, ds.width, ds.height,
                         tuple(ds.dtypes), ds.nodata)
    except rasterio.errors.RasterioIOError as exc:
        raise SITSDataError(f'{label}: asset {key} ({path}) cannot be '
                            f'opened as a raster ({exc})') from None


def _item_date(item, label: str) -> datetime.date:
    when = item.datetime
    if when is None:
        start = item.properties.get('start_datetime')
        if not start:
            raise SITSDataError(f'{label}: no datetime (properties.datetime'
                                ' or start_datetime)')
        from .dates import parse_date
        return parse_date(start, label)
    if when.tzinfo is not None:
        when = when.astimezone(datetime.timezone.utc)
    return when.date()


def _item_offset(item, date: datetime.date, dtype: str,
                 scale: float) -> float:
    """``offset='auto'`` of an item, in input units.

    Float data: 0 (taken as harmonised). Else -1000 (x scale / 10000) when
    the item says its processing baseline (``s2:processing_baseline``) is
    04.00 or later -- unless the provider says the offset was already
    applied (Earth Search ``earthsearch:boa_offset_applied``) -- else the
    date rule of the file inputs (acquired from 2022-01-25). The baseline
    wins over the date: reprocessed collections (baseline 05.xx) of
    earlier acquisitions carry the offset too. ``raster:bands`` offsets
    are not used (Earth Search lists -0.1 on every item).
    """
    if not np.issubdtype(np.dtype(dtype), np.integer):
        return 0.
    props = item.properties
    if props.get('earthsearch:boa_offset_applied') is True:
        return 0.
    base = props.get('s2:processing_baseline')
    if base is not None:
        try:
            return -1000. * scale / 10000. if float(base) >= 4 else 0.
        except ValueError:
            pass
    return -1000. * scale / 10000. if date >= L2A_OFFSET_DATE else 0.


def _crop_grid(ref: _Grid, bbox: Sequence[float], step: float,
               label: str) -> _Grid:
    """The part of ``ref``'s lattice covering a lon/lat box, its edges on
    multiples of ``step`` metres from ``ref``'s origin (so that the
    coarser bands map to whole pixels)."""
    from affine import Affine
    from rasterio.warp import transform_bounds
    west, south, east, north = (float(v) for v in bbox)
    if not (west < east and south < north):
        raise SITSDataError(f'bbox {tuple(bbox)}: expected west < east and '
                            'south < north (degrees)')
    x0, y0, x1, y1 = transform_bounds('EPSG:4326', ref.crs, west, south,
                                      east, north)
    ox, oy, res = ref.transform.c, ref.transform.f, ref.res
    left = ox + np.floor((x0 - ox) / step) * step
    right = ox + np.ceil((x1 - ox) / step) * step
    top = oy - np.floor((oy - y1) / step) * step
    bottom = oy - np.ceil((oy - y0) / step) * step
    width, height = int(round((right - left) / res)), int(round(
        (top - bottom) / res))
    if width <= 0 or height <= 0:
        raise SITSDataError(f'bbox {tuple(bbox)}: empty in the grid of '
                            f'{label}')
    return _Grid(ref.crs, Affine(res, 0, left, 0, -res, top), width, height)


def _windows(src: _Grid, dst: _Grid, label: str, key: str
             ) -> Optional[Tuple[Tuple[int, ...], Tuple[int, ...]]]:
    """(SrcRect, DstRect) of ``src`` on ``dst`` (pixels), None when they do
    not overlap."""
    if src.crs != dst.crs:
        raise SITSDataError(
            f'{label}: asset {key} is in {src.crs}, the scene grid in '
            f'{dst.crs}; one scene is one CRS (restrict the bbox or the '
            'items to one UTM zone / tile)')
    t, d = src.transform, dst.transform
    if t.b or t.d or t.e >= 0 or abs(abs(t.e) - t.a) > 1e-9 * t.a:
        raise SITSDataError(f'{label}: asset {key} is not on a north-up '
                            'grid of square pixels')
    sx0, sy1 = t.c, t.f
    sx1, sy0 = sx0 + src.width * t.a, sy1 + src.height * t.e
    dx0, dy1 = d.c, d.f
    dx1, dy0 = dx0 + dst.width * d.a, dy1 + dst.height * d.e
    ix0, ix1 = max(sx0, dx0), min(sx1, dx1)
    iy0, iy1 = max(sy0, dy0), min(sy1, dy1)
    if ix0 >= ix1 or iy0 >= iy1:
        return None
    vals = [(ix0 - sx0) / t.a, (sy1 - iy1) / t.a, (ix1 - ix0) / t.a,
            (iy1 - iy0) / t.a, (ix0 - dx0) / d.a, (dy1 - iy1) / d.a,
            (ix1 - ix0) / d.a, (iy1 - iy0) / d.a]
    ints = [int(round(v)) for v in vals]
    if max(abs(v - i) for v, i in zip(vals, ints)) > 1e-6:
        raise SITSDataError(
            f'{label}: asset {key} (pixel {t.a:g}, origin {sx0:g}, {sy1:g})'
            f' is not aligned to the scene grid (pixel {d.a:g}, origin '
            f'{dx0:g}, {dy1:g})')
    return tuple(ints[:4]), tuple(ints[4:])


def _description(band: str) -> str:
    """``B2`` -> ``B02`` (the L2A band descriptions)."""
    return f'B{band[1:]:0>2}' if band[1:].isdigit() else band


def _write_vrt(path: str, grid: _Grid, bands: List[tuple]) -> None:
    """A VRT of ``grid`` whose band k holds (description, source path,
    source band, source grid, SrcRect, DstRect) resampled nearest."""
    root = ET.Element('VRTDataset', rasterXSize=str(grid.width),
                      rasterYSize=str(grid.height))
    ET.SubElement(root, 'SRS').text = grid.crs.to_wkt()
    t = grid.transform
    ET.SubElement(root, 'GeoTransform').text = ', '.join(
        repr(float(v)) for v in (t.c, t.a, t.b, t.f, t.d, t.e))
    for k, (desc, src, src_band, sgrid, srect, drect) in enumerate(bands, 1):
        dtype = sgrid.dtypes[src_band - 1 if len(sgrid.dtypes) >= src_band
                             else 0]
        band = ET.SubElement(root, 'VRTRasterBand',
                             dataType=_GDAL_TYPES[dtype], band=str(k))
        ET.SubElement(band, 'Description').text = desc
        if sgrid.nodata is not None:
            ET.SubElement(band, 'NoDataValue').text = repr(
                float(sgrid.nodata))
        source = ET.SubElement(band, 'SimpleSource', resampling='nearest')
        ET.SubElement(source, 'SourceFilename',
                      relativeToVRT='0').text = src
        ET.SubElement(source, 'SourceBand').text = str(src_band)
        for tag, rect in (('SrcRect', srect), ('DstRect', drect)):
            ET.SubElement(source, tag, xOff=str(rect[0]), yOff=str(rect[1]),
                          xSize=str(rect[2]), ySize=str(rect[3]))
    ET.ElementTree(root).write(path, encoding='utf-8')


def stac_entries(items: Sequence,
                 model_bands: Sequence[str],
                 vrt_dir: str,
                 bbox: Optional[Sequence[float]] = None,
                 scale: float = 10000.) -> Tuple[List[dict], List[str]]:
    """Scene-reader entries (one per item) of Sentinel-2 STAC items.

    Each item's band assets are matched to ``model_bands`` by the assets'
    band objects (``eo:bands`` / ``bands``: ``name``, then
    ``common_name``), else by the asset key (``B04``, ``red``,
    ``nir08``, ``scl`` ...); GeoTIFF assets win over JPEG 2000 ones. The
    scene grid is the finest model band of the first item (by date),
    cropped to ``bbox`` if given (edges snapped outward to the coarsest
    band's pixels); without ``bbox`` every item must be on that grid.
    Items are refused when two share a date (adjacent tiles or orbits:
    they are not mosaicked) or when they lack a model band.

    Args:
        items (Sequence[pystac.Item]): The items.
        model_bands (Sequence[str]): Canonical model bands, in order.
        vrt_dir (str): Folder of the VRTs written (created).
        bbox (Sequence[float], optional): Crop box, degrees (WGS 84).
        scale (float): Input units per reflectance unit (for the offset).

    Returns:
        tuple[list[dict], list[str]]: Entries (``path`` (image VRT),
        ``date``, ``mask`` (SCL VRT or None), ``mask_kind``, ``offset``
        (the ``'auto'`` offset), ``source`` (item)) and warnings.
    """
    model_bands = tuple(model_bands)
    warnings = []
    rows = []
    for item in items:
        label = _label(item)
        assets = _band_assets(item, label)
        missing = [b for b in model_bands if b not in assets]
        if missing:
            raise SITSDataError(
                f'{label}: no asset for band(s) {", ".join(missing)} the '
                f'model needs (it takes {", ".join(model_bands)}; the item '
                f'has {", ".join(sorted(item.assets)) or "no assets"})')
        rows.append((_item_date(item, label), label, item, assets))
    by_date: Dict[datetime.date, List[str]] = {}
    for date, label, item, _ in rows:
        by_date.setdefault(date, []).append(item.id)
    dup = {d: ids for d, ids in by_date.items() if len(ids) > 1}
    if dup:
        text = '; '.join(f'{d}: {", ".join(ids)}'
                         for d, ids in sorted(dup.items()))
        raise SITSDataError(
            f'several STAC items on one date ({text}); a scene takes one '
            'item per date (they are not mosaicked): restrict the bbox or '
            'the catalog to one tile, or filter the search (e.g. query '
            '{"grid:code": {"eq": "MGRS-31TFJ"}} or {"s2:mgrs_tile": '
            '{"eq": "31TFJ"}})')
    rows.sort(key=lambda r: r[0])
    grids = {}
    for date, label, item, assets in rows:
        for name in model_bands + (('SCL', ) if 'SCL' in assets else ()):
            path, _, key, asset = assets[name]
            grids[item.id, name] = _grid(item, asset, path, label, key)
            dtypes = grids[item.id, name].dtypes
            bad = [d for d in dtypes if name != 'SCL' and
                   d not in _ALLOWED_DTYPES]
            if bad:
                raise SITSDataError(
                    f'{label}: asset {key} ({name}) is {bad[0]}, which '
                    'cannot hold Sentinel-2 reflectance')
            if name == 'SCL' and any(d.startswith('float') for d in dtypes):
                raise SITSDataError(f'{label}: SCL asset {key} must hold '
                                    'integer classes')
    first = rows[0]
    ref_band = min(model_bands, key=lambda b: grids[first[2].id, b].res)
    ref = grids[first[2].id, ref_band]
    if bbox is not None:
        step = max(grids[k].res for k in grids)
        target = _crop_grid(ref, bbox, step, first[1])
    else:
        target = _Grid(ref.crs, ref.transform, ref.width, ref.height)
    os.makedirs(vrt_dir, exist_ok=True)
    entries = []
    for date, label, item, assets in rows:
        fine = grids[item.id, min(model_bands,
                                  key=lambda b: grids[item.id, b].res)]
        if bbox is None and (fine.crs != target.crs or
                             (fine.width, fine.height) !=
                             (target.width, target.height) or
                             not fine.transform.almost_equals(
                                 target.transform, 1e-6)):
            raise SITSDataError(
                f'{label}: on another grid ({fine.crs}, '
                f'{tuple(fine.transform)[:6]}, {fine.width} x '
                f'{fine.height}) than {first[1]} ({target.crs}, '
                f'{tuple(target.transform)[:6]}, {target.width} x '
                f'{target.height}); one scene is one tile: pass a bbox to '
                'crop, or keep the items of one tile')
        layers = {}
        for name in model_bands + (('SCL', ) if 'SCL' in assets else ()):
            path, k, key, _ = assets[name]
            win = _windows(grids[item.id, name], target, label, key)
            if win is None:
                raise SITSDataError(
                    f'{label}: asset {key} ({name}) does not overlap the '
                    'scene' + (' bbox' if bbox is not None else ''))
            layers[name] = (_description(name), path, k,
                            grids[item.id, name]) + win
        stem = re.sub(r'[^A-Za-z0-9._-]+', '_',
                      f'{date:%Y%m%d}_{item.id}')
        image = osp.join(vrt_dir, stem + '.vrt')
        _write_vrt(image, target, [layers[b] for b in model_bands])
        mask = None
        if 'SCL' in layers:
            mask = osp.join(vrt_dir, stem + '_SCL.vrt')
            _write_vrt(mask, target, [layers['SCL']])
        else:
            warnings.append(f'{label}: no SCL asset; clouds of {date} are '
                            'not masked')
        dtype = grids[item.id, model_bands[0]].dtypes[0]
        entries.append(dict(path=image, date=date, mask=mask,
                            mask_kind='scl', source=label,
                            offset=_item_offset(item, date, dtype, scale)))
    return entries, warnings
