# Copyright (c) mmexact contributors. All rights reserved.
"""Sentinel-2 L2A GeoTIFF time series as a streaming source of model
inputs (reflectance x 10000, no-data -10000)."""
import datetime
import glob
import os.path as osp
import shutil
import tempfile
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import rasterio
from rasterio.enums import Resampling
from rasterio.windows import Window

from ..structures import NODATA, SITSDataError, canonical_band
from .dates import (L2A_OFFSET_DATE, date_from_name, read_date_list,
                    read_index, select_dates)
from .stac import (StacSearch, is_stac_json, read_stac_items, search_stac,
                   stac_entries)

__all__ = [
    'DEFAULT_SCL_INVALID', 'GeoTIFFScene', 'open_scene', 'scene_summary'
]

#: Scene-classification (SCL) classes treated as no observation: 0 no
#: data, 1 saturated / defective, 3 cloud shadow, 8 / 9 cloud medium /
#: high probability, 10 thin cirrus. Snow (11) and the land classes stay.
DEFAULT_SCL_INVALID = (0, 1, 3, 8, 9, 10)

_RASTER_EXT = ('.tif', '.tiff')
_MASK_SUFFIXES = {'_scl': 'scl', '_mask': 'binary', '_cloudmask': 'binary'}
_ALLOWED_DTYPES = ('uint16', 'int16', 'uint32', 'int32', 'float32',
                   'float64')


@dataclass
class _Frame:
    """Where one date's bands (and mask) are."""

    date: datetime.date
    path: str
    bands: Tuple[int, ...]  # 1-based band indexes, model order
    mask_path: Optional[str] = None
    mask_band: int = 1
    mask_kind: str = 'scl'
    offset: float = 0.
    clear: float = 1.
    source: Optional[str] = None  # e.g. the STAC item of the date


def _mask_kind(path: str) -> Tuple[Optional[str], Optional[str]]:
    """(image stem, kind) when ``path`` names a mask file."""
    stem = osp.splitext(osp.basename(path))[0]
    low = stem.lower()
    for suffix, kind in _MASK_SUFFIXES.items():
        if low.endswith(suffix):
            return stem[:-len(suffix)], kind
    return None, None


def _kind_of(mask: Optional[str], mask_type: str) -> Optional[str]:
    """Mask kind: explicit, else from the name (SCL if it says so)."""
    if mask is None:
        return None
    if mask_type != 'auto':
        return mask_type
    kind = _mask_kind(mask)[1]
    if kind is None:
        kind = 'scl' if 'scl' in osp.basename(mask).lower() else 'binary'
    return kind


class GeoTIFFScene:
    """A georeferenced Sentinel-2 time series read window by window.

    Built by :func:`open_scene`; reading gives the model's units: values
    ``(DN + offset) * 10000 / scale`` (reflectance x 10000 with the
    processing-baseline offset removed), every band -10000 where the pixel
    is no-data in the file, non-finite, or masked by the date's cloud /
    SCL mask. Valid values below -9999 are raised to -9999 so they cannot
    be taken for no-data.

    Attributes:
        dates (list[datetime.date]): Dates of the frames, in day-of-year
            order (the model's frame order).
        doy (np.ndarray): (T,) day of year of each frame.
        height, width (int): Scene size in pixels.
        profile (dict): ``crs``, ``transform``, ``width``, ``height``.
        name (str): The input, for messages.
        num_bands (int): Model bands per frame.
        all_dates (list[dict]): Every input date with its file, clear
            fraction and whether it was selected.
        warnings (list[str]): Non-fatal remarks (e.g. pixel size).
    """

    def __init__(self, name: str, frames: List[_Frame], scale: float,
                 nodata: Union[str, float, None], scl_invalid: Sequence[int],
                 max_seq_len: Optional[int], date_selection: str) -> None:
        self.name = name
        self.scale = float(scale)
        self.scl_invalid = np.asarray(sorted(set(scl_invalid)), np.int64)
        self._nodata_opt = nodata
        self._datasets: Dict[str, rasterio.DatasetReader] = {}
        self._tmp_dir: Optional[str] = None  # removed by close()
        self.warnings: List[str] = []
        try:
            self._check_grids(frames)
            for fr in frames:
                fr.clear = self._clear_fraction(fr)
            keep = select_dates([f.date for f in frames],
                                [f.clear for f in frames], max_seq_len,
                                date_selection, name)
        except Exception:
            self.close()
            raise
        kept = set(int(k) for k in keep)
        self.all_dates = [
            dict(date=f.date.isoformat(), path=f.path, mask=f.mask_path,
                 clear_fraction=round(f.clear, 4), offset=f.offset,
                 selected=i in kept, **({} if f.source is None else
                                         dict(source=f.source)))
            for i, f in enumerate(frames)
        ]
        self.frames = [frames[int(k)] for k in keep]
        self.dates = [f.date for f in self.frames]
        self.doy = np.array([d.timetuple().tm_yday for d in self.dates],
                            np.int64)
        self.num_bands = len(self.frames[0].bands)

    # ------------------------------------------------------------------
    def _open(self, path: str) -> rasterio.DatasetReader:
        ds = self._datasets.get(path)
        if ds is None:
            try:
                ds = rasterio.open(path)
            except rasterio.errors.RasterioIOError as exc:
                raise SITSDataError(f'{path}: cannot open as a raster '
                                    f'({exc})') from None
            self._datasets[path] = ds
        return ds

    def _check_grids(self, frames: List[_Frame]) -> None:
        ref = self._open(frames[0].path)
        if ref.crs is None:
            raise SITSDataError(f'{frames[0].path}: no CRS (the file is not '
                                'georeferenced)')
        self.profile = dict(crs=ref.crs, transform=ref.transform,
                            width=ref.width, height=ref.height)
        self.height, self.width = ref.height, ref.width
        res = abs(ref.transform.a), abs(ref.transform.e)
        if ref.crs.is_projected and ref.crs.linear_units in ('metre',
                                                             'meter'):
            if max(abs(r - 10.) for r in res) > 0.5:
                self.warnings.append(
                    f'{frames[0].path}: pixel size {res[0]:g} x {res[1]:g}'
                    ' m; the models are trained on 10 m Sentinel-2 pixels')
        else:
            self.warnings.append(
                f'{frames[0].path}: CRS {ref.crs} is not projected in '
                'metres; areas and the 10 m pixel size cannot be checked')

        def same_grid(path, ds, what=''):
            if ds.crs != ref.crs:
                raise SITSDataError(
                    f'{path}: {what}CRS {ds.crs} differs from {ref.crs} of '
                    f'{frames[0].path}; warp every date to one grid')
            if (ds.height, ds.width) != (ref.height, ref.width):
                raise SITSDataError(
                    f'{path}: {what}size {ds.width} x {ds.height} differs '
                    f'from {ref.width} x {ref.height} of {frames[0].path};'
                    ' every date (and mask) must be on one grid')
            if not ds.transform.almost_equals(ref.transform, 1e-6):
                raise SITSDataError(
                    f'{path}: {what}grid {tuple(ds.transform)[:6]} differs '
                    f'from {tuple(ref.transform)[:6]} of {frames[0].path};'
                    ' every date must have the same origin and pixel size')

        for fr in frames:
            same_grid(fr.path, self._open(fr.path))
            if fr.mask_path is not None:
                mds = self._open(fr.mask_path)
                if (mds.height, mds.width) != (ref.height, ref.width):
                    raise SITSDataError(
                        f'{fr.mask_path}: mask of {mds.width} x '
                        f'{mds.height} pixels, its image {fr.path} has '
                        f'{ref.width} x {ref.height}; resample the mask to '
                        'the image grid')
                if mds.crs is not None:
                    same_grid(fr.mask_path, mds, 'mask ')

    def _nodata(self, ds) -> Optional[float]:
        opt = self._nodata_opt
        if opt == 'none':
            return None
        if opt is not None and opt != 'auto':
            return float(opt)
        if ds.nodata is not None:
            return ds.nodata
        # L2A digital numbers use 0 for "no data"
        return 0. if np.issubdtype(np.dtype(ds.dtypes[0]), np.integer) \
            else None

    def _invalid(self, fr: _Frame, raw: np.ndarray, window, out_shape=None
                 ) -> np.ndarray:
        ds = self._open(fr.path)
        nodata = self._nodata(ds)
        invalid = np.zeros(raw.shape[1:], bool)
        if nodata is not None:
            if np.isnan(nodata):
                invalid |= np.isnan(raw).any(axis=0)
            else:
                invalid |= (raw == nodata).any(axis=0)
        if raw.dtype.kind == 'f':
            invalid |= ~np.isfinite(raw).all(axis=0)
        if fr.mask_path is not None:
            mds = self._open(fr.mask_path)
            kw = dict(window=window)
            if out_shape is not None:
                kw = dict(out_shape=out_shape,
                          resampling=Resampling.nearest)
            mask = mds.read(fr.mask_band, **kw)
            if fr.mask_kind == 'scl':
                invalid |= np.isin(mask, self.scl_invalid)
            else:
                invalid |= mask != 0
        return invalid

    def _clear_fraction(self, fr: _Frame) -> float:
        """Valid, unmasked share of a date (from a <= 256 px preview)."""
        ds = self._open(fr.path)
        f = max(1, int(np.ceil(max(ds.height, ds.width) / 256)))
        shape = (max(1, ds.height // f), max(1, ds.width // f))
        raw = ds.read([fr.bands[0]], out_shape=(1, ) + shape,
                      resampling=Resampling.nearest)
        return float(1 - self._invalid(fr, raw, None, shape).mean())

    # ------------------------------------------------------------------
    def read(self, y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
        """(T, C, y1 - y0, x1 - x0) float32 in the model's units."""
        window = Window(x0, y0, x1 - x0, y1 - y0)
        out = np.empty((len(self.frames), self.num_bands, y1 - y0, x1 - x0),
                       np.float32)
        factor = 10000. / self.scale
        for t, fr in enumerate(self.frames):
            raw = self._open(fr.path).read(list(fr.bands), window=window)
            invalid = self._invalid(fr, raw, window)
            val = out[t]
            val[...] = raw
            if fr.offset:
                val += np.float32(fr.offset)
            if factor != 1:
                val *= np.float32(factor)
            np.maximum(val, NODATA + 1, out=val)
            val[:, invalid] = NODATA
        return out

    def close(self) -> None:
        """Close every open file."""
        for ds in self._datasets.values():
            ds.close()
        self._datasets = {}
        if self._tmp_dir is not None:
            shutil.rmtree(self._tmp_dir, ignore_errors=True)
            self._tmp_dir = None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# ----------------------------------------------------------------------
def _band_names(path: str, ds, bands: Optional[Sequence[str]],
                first: int, count: int) -> List[Optional[str]]:
    """Canonical names of bands ``first+1 .. first+count`` of a file."""
    if bands is not None:
        names = list(bands)
        if len(names) != count:
            raise SITSDataError(
                f'{path}: {count} bands per date, --bands lists '
                f'{len(names)} ({", ".join(names)}); a band is missing or '
                'extra')
        source = '--bands'
    else:
        names = list(ds.descriptions[first:first + count])
        for k, desc in enumerate(names):
            if not desc:
                raise SITSDataError(
                    f'{path}: band {first + k + 1} has no description, so '
                    'it cannot be matched to the model bands; name the '
                    'bands with --bands (e.g. --bands B2 B3 B4 ...)')
        source = 'band description'
    out = []
    for k, name in enumerate(names):
        canon = 'SCL' if str(name).strip().upper() == 'SCL' else \
            canonical_band(name)
        if canon is None:
            raise SITSDataError(
                f'{path}: band {first + k + 1} ({source} {name!r}) is not a '
                'Sentinel-2 band name (B1..B12, B8A, SCL)')
        out.append(canon)
    dup = sorted({n for n in out if out.count(n) > 1})
    if dup:
        raise SITSDataError(f'{path}: band(s) {", ".join(dup)} appear more '
                            'than once')
    return out


def _match(path: str, names: List[str], model_bands: Sequence[str],
           first: int, ignore_extra: bool) -> Tuple[Tuple[int, ...],
                                                    Optional[int]]:
    """1-based indexes of the model bands (model order) and of SCL."""
    missing = [b for b in model_bands if b not in names]
    if missing:
        raise SITSDataError(
            f'{path}: missing band(s) {", ".join(missing)}; the model '
            f'needs {", ".join(model_bands)} (found {", ".join(names)})')
    extra = [n for n in names if n not in model_bands and n != 'SCL']
    if extra and not ignore_extra:
        raise SITSDataError(
            f'{path}: extra band(s) {", ".join(extra)} the model does not '
            f'use (it takes {", ".join(model_bands)}); remove them or pass '
            '--ignore-extra-bands')
    idx = tuple(first + names.index(b) + 1 for b in model_bands)
    scl = first + names.index('SCL') + 1 if 'SCL' in names else None
    return idx, scl


def _check_dtype(path: str, ds) -> None:
    dtypes = set(ds.dtypes)
    bad = sorted(d for d in dtypes if d not in _ALLOWED_DTYPES)
    if bad:
        raise SITSDataError(
            f'{path}: data type {", ".join(bad)} cannot hold Sentinel-2 '
            'reflectance (expected 16/32-bit integers of reflectance x '
            '10000, or floats)')


def _offset(value: Union[str, float], date: datetime.date, ds,
            scale: float) -> float:
    if value != 'auto':
        return float(value)
    if not np.issubdtype(np.dtype(ds.dtypes[0]), np.integer):
        return 0.  # float reflectances are taken as harmonised
    return -1000. * scale / 10000. if date >= L2A_OFFSET_DATE else 0.


def _list_folder(folder: str, mask_type: str) -> List[dict]:
    files = sorted(
        f for f in glob.glob(osp.join(folder, '*'))
        if f.lower().endswith(_RASTER_EXT) and osp.isfile(f))
    if not files:
        raise SITSDataError(f'{folder}: no GeoTIFF (*.tif, *.tiff) in the '
                            'folder')
    images, masks = [], {}
    for f in files:
        stem, kind = _mask_kind(f)
        if kind is None:
            images.append(f)
        else:
            masks[stem] = (f, kind)
    if not images:
        raise SITSDataError(f'{folder}: only mask files, no images')
    entries = []
    for f in images:
        stem = osp.splitext(osp.basename(f))[0]
        mask = masks.pop(stem, (None, None))
        kind = mask[1] if mask_type == 'auto' or mask[0] is None \
            else mask_type
        entries.append(dict(path=f, date=date_from_name(f), mask=mask[0],
                            mask_kind=kind))
    if masks:
        orphan = sorted(v[0] for v in masks.values())
        raise SITSDataError(f'{orphan[0]}: mask without an image of the '
                            'same name (without the mask suffix)')
    return entries


def open_scene(path: Union[str, StacSearch],
               model_bands: Sequence[str],
               dates: Optional[Union[str, Sequence]] = None,
               bands: Optional[Sequence[str]] = None,
               mask: Optional[str] = None,
               mask_type: str = 'auto',
               scale: float = 10000.,
               offset: Union[str, float] = 'auto',
               nodata: Union[str, float, None] = 'auto',
               scl_invalid: Sequence[int] = DEFAULT_SCL_INVALID,
               ignore_extra_bands: bool = False,
               max_seq_len: Optional[int] = None,
               date_selection: str = 'clearest',
               bbox: Optional[Sequence[float]] = None,
               vrt_dir: Optional[str] = None) -> GeoTIFFScene:
    """Open a Sentinel-2 L2A time series for inference.

    Inputs (``path``):

    - a folder of per-date GeoTIFFs; each date is read from its file name
      (first ``YYYYMMDD`` / ``YYYY-MM-DD``). ``<name>_SCL.tif`` beside
      ``<name>.tif`` is its scene-classification mask,
      ``<name>_mask.tif`` / ``<name>_cloudmask.tif`` a binary mask
      (non-zero = cloud);
    - an index CSV (header ``path,date[,mask]``) or JSON listing the
      files, their dates and masks;
    - one multi-band stack with ``dates``: T x C bands, date-major (the C
      bands of the first date, then of the second ...), and optionally
      ``mask``, a file with one mask band per date;
    - STAC items, one per date: a STAC JSON (recognised by its content: a
      static Catalog / Collection whose item links are followed, an
      ItemCollection / FeatureCollection of items, or one Item; local or
      http(s)), or a :class:`mmexact.geo.StacSearch` (a STAC API search).
      Each item becomes a VRT of its band assets on the 10 m grid (coarser
      bands resampled nearest) and its SCL asset the date's mask, read
      like an index (:func:`mmexact.geo.stac.stac_entries`); the date is
      ``properties.datetime`` (UTC); two items on one date are refused.

    Bands are matched to ``model_bands`` by the files' band descriptions
    (``B02``, ``B2``, ``red`` ...) or by ``bands`` (the names of a file's
    bands in order). A band named ``SCL`` in an image is its mask. Values
    become ``(DN + offset) * 10000 / scale``; ``offset='auto'`` is -1000
    (in 10000-scale DN) for integer data acquired from 25 January 2022
    (processing baseline 04.00), else 0; STAC items that give
    ``s2:processing_baseline`` use it instead of the date (>= 04.00:
    -1000), and Earth Search's ``earthsearch:boa_offset_applied: true``
    gives 0. Pixels equal to ``nodata``
    (``'auto'``: the file's nodata value, else 0 for integer data),
    non-finite, or masked (SCL classes in ``scl_invalid``, or non-zero in
    a binary mask) become the model's no-data value -10000. Series longer
    than ``max_seq_len`` are cut by ``date_selection``
    (:func:`mmexact.geo.select_dates`).

    Args:
        path (str | StacSearch): Folder, index (``.csv`` / ``.json``),
            stack, STAC JSON, or a STAC API search.
        model_bands (Sequence[str]): The model's bands, in order.
        dates (str | Sequence, optional): Stack dates (a file, a
            comma-separated string or a list of dates / strings).
        bands (Sequence[str], optional): Band names of each date's bands.
        mask (str, optional): Stack only: per-date mask bands.
        mask_type (str): ``'scl'`` (scene classification, classes in
            ``scl_invalid`` masked), ``'binary'`` (non-zero masked) or
            ``'auto'``: from the file name (``*_SCL*`` / ``*scl*``: SCL,
            else binary).
        scale (float): Input units per reflectance unit (10000 for L2A
            digital numbers, 1 for reflectances). Defaults to 10000.
        offset (str | float): ``'auto'`` or an offset in input units.
        nodata (str | float | None): ``'auto'``, ``'none'`` or a value.
        scl_invalid (Sequence[int]): SCL classes masked out.
        ignore_extra_bands (bool): Skip bands the model does not use
            instead of refusing the file.
        max_seq_len (int, optional): The model's maximum series length.
        date_selection (str): ``'clearest'``, ``'first'`` or ``'error'``.
        bbox (Sequence[float], optional): STAC JSON only: crop the scene to
            ``(west, south, east, north)`` in degrees (a search crops to
            its own ``bbox``).
        vrt_dir (str, optional): STAC only: folder for the per-date VRTs
            (kept). Default: a temporary folder removed by ``close()``.

    Returns:
        GeoTIFFScene: The scene (close it, or use it as a context manager).
    """
    if scale <= 0:
        raise ValueError('scale must be positive')
    if mask_type not in ('auto', 'scl', 'binary'):
        raise ValueError(f'mask_type must be auto, scl or binary, got '
                         f'{mask_type!r}')
    model_bands = tuple(model_bands)
    if isinstance(path, StacSearch) or (
            isinstance(path, str) and
            (is_stac_json(path) or
             (path.startswith(('http://', 'https://')) and
              path.lower().split('?')[0].endswith('.json')))):
        if dates is not None or mask is not None or bands is not None:
            raise ValueError('dates, mask and bands are not for STAC inputs '
                             '(the items give dates, bands and SCL)')
        tmp = None
        if vrt_dir is None:
            vrt_dir = tmp = tempfile.mkdtemp(prefix='mmexact_stac_')
        try:
            if isinstance(path, StacSearch):
                if bbox is not None:
                    raise ValueError('a StacSearch crops to its own bbox')
                items = search_stac(path)
                bbox = path.bbox if path.crop else None
            else:
                items = read_stac_items(path)
            entries, notes = stac_entries(items, model_bands, vrt_dir, bbox,
                                          scale)
            scene = _open_entries(str(path), entries, model_bands, None,
                                  offset, scale, nodata, scl_invalid,
                                  ignore_extra_bands, max_seq_len,
                                  date_selection)
        except BaseException:
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)
            raise
        if isinstance(path, StacSearch) and path.max_items and \
                len(items) >= path.max_items:
            notes.append(f'{path}: the search returned max_items '
                         f'({path.max_items}) items; dates may be missing '
                         '(raise max_items or narrow the search)')
        scene.warnings.extend(notes)
        scene._tmp_dir = tmp
        return scene
    if bbox is not None or vrt_dir is not None:
        raise SITSDataError(f'{path}: not a STAC input; bbox (--bbox) and '
                            'vrt_dir are for STAC catalogs and searches')
    if not osp.exists(path):
        raise SITSDataError(f'{path}: input not found')
    stack = osp.isfile(path) and path.lower().endswith(_RASTER_EXT)
    if stack:
        entries = _stack_entries(path, dates, mask, mask_type)
    else:
        if dates is not None or mask is not None:
            raise ValueError('dates and mask are for a single stack file; '
                             'a folder or index gives them per file')
        if osp.isdir(path):
            entries = _list_folder(path, mask_type)
        elif path.lower().endswith(('.csv', '.json')):
            entries = read_index(path)
            for e in entries:
                if not osp.isfile(e['path']):
                    raise SITSDataError(f'{path}: listed file {e["path"]} '
                                        'does not exist')
                if e['mask'] and not osp.isfile(e['mask']):
                    raise SITSDataError(f'{path}: listed mask {e["mask"]} '
                                        'does not exist')
                e['mask_kind'] = _kind_of(e['mask'], mask_type)
        else:
            raise SITSDataError(
                f'{path}: not a folder, an index (.csv/.json), a STAC JSON '
                'or a GeoTIFF')
    return _open_entries(path, entries, model_bands, bands, offset, scale,
                         nodata, scl_invalid, ignore_extra_bands,
                         max_seq_len, date_selection)


def _open_entries(path: str, entries: List[dict], model_bands: tuple,
                  bands: Optional[Sequence[str]], offset: Union[str, float],
                  scale: float, nodata: Union[str, float, None],
                  scl_invalid: Sequence[int], ignore_extra_bands: bool,
                  max_seq_len: Optional[int],
                  date_selection: str) -> GeoTIFFScene:
    """The scene of per-date entries (``path``, ``date``, ``mask``,
    ``mask_kind``; optionally ``first`` / ``count`` / ``mask_band`` of a
    stack, ``offset`` (the ``'auto'`` offset) and ``source``)."""
    seen = {}
    for e in entries:
        if e['date'] in seen:
            raise SITSDataError(
                f'{e["path"]}: date {e["date"]} already given by '
                f'{seen[e["date"]]}; one file per date')
        seen[e['date']] = e['path']
    entries.sort(key=lambda e: e['date'])
    frames = []
    cache = {}
    for e in entries:
        try:
            ds = cache.get(e['path']) or rasterio.open(e['path'])
        except rasterio.errors.RasterioIOError as exc:
            raise SITSDataError(f'{e["path"]}: cannot open as a raster '
                                f'({exc})') from None
        cache[e['path']] = ds
        _check_dtype(e['path'], ds)
        first, count = e.get('first', 0), e.get('count', ds.count)
        names = _band_names(e['path'], ds, bands, first, count)
        idx, scl = _match(e['path'], names, model_bands, first,
                          ignore_extra_bands)
        auto = offset == 'auto' and e.get('offset') is not None
        fr = _Frame(e['date'], e['path'], idx,
                    offset=e['offset'] if auto else _offset(
                        offset, e['date'], ds, scale),
                    source=e.get('source'))
        if e.get('mask'):
            fr.mask_path, fr.mask_kind = e['mask'], e['mask_kind']
            fr.mask_band = e.get('mask_band', 1)
        elif scl is not None:
            fr.mask_path, fr.mask_kind, fr.mask_band = e['path'], 'scl', scl
        frames.append(fr)
    for ds in cache.values():
        ds.close()
    for fr in frames:
        if fr.mask_path is not None and fr.mask_path != fr.path:
            with rasterio.open(fr.mask_path) as mds:
                if fr.mask_band > mds.count:
                    raise SITSDataError(
                        f'{fr.mask_path}: has {mds.count} band(s), no mask '
                        f'for date {fr.date} (band {fr.mask_band})')
                if mds.dtypes[0].startswith('float'):
                    raise SITSDataError(f'{fr.mask_path}: a mask must hold '
                                        'integer classes or flags')
    return GeoTIFFScene(path, frames, scale, nodata, scl_invalid,
                        max_seq_len, date_selection)


def _stack_entries(path: str, dates, mask: Optional[str],
                   mask_type: str) -> List[dict]:
    if dates is None:
        raise SITSDataError(f'{path}: a single stack needs its dates '
                            '(--dates FILE or a comma-separated list)')
    if isinstance(dates, str):
        dates = read_date_list(dates)
    else:
        dates = [d if isinstance(d, datetime.date) else
                 datetime.date.fromisoformat(str(d)) for d in dates]
    if not dates:
        raise SITSDataError(f'{path}: the date list is empty')
    with rasterio.open(path) as ds:
        count = ds.count
    if count % len(dates):
        raise SITSDataError(
            f'{path}: {count} bands is not a multiple of the {len(dates)} '
            'dates (expected T x C bands, date-major); a band is missing or'
            ' extra, or the date list is wrong')
    per = count // len(dates)
    if mask is not None and not osp.isfile(mask):
        raise SITSDataError(f'{mask}: mask file not found')
    return [
        dict(path=path, date=d, first=t * per, count=per, mask=mask,
             mask_band=t + 1, mask_kind=_kind_of(mask, mask_type))
        for t, d in enumerate(dates)
    ]


def scene_summary(scene: GeoTIFFScene) -> dict:
    """JSON-friendly description of a scene (for reports)."""
    return dict(
        input=scene.name,
        crs=str(scene.profile['crs']),
        transform=list(scene.profile['transform'])[:6],
        size=[scene.height, scene.width],
        dates=[d.isoformat() for d in scene.dates],
        all_dates=scene.all_dates,
        warnings=scene.warnings)
