# Copyright (c) mmexact contributors. All rights reserved.
"""Labels of your own region on a scene's pixel grid: a nomenclature
(attribute value -> class name), parcels rasterised to pixel labels, and
image-level labels from polygons or grid cells listing their crops."""
import csv
import os.path as osp
from collections import Counter
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..structures import SITSDataError

__all__ = [
    'IGNORE', 'Nomenclature', 'default_palette', 'read_nomenclature',
    'read_vector', 'value_key',
    'rasterize_parcels', 'rasterize_cells'
]

#: Pixel label of "no truth here" (unmapped crop, conflicting parcels,
#: image-label-only data); the ignore index of mmexact.
IGNORE = 255

_IGNORE_NAMES = ('', 'ignore', '-', 'none')


@dataclass
class Nomenclature:
    """Mapping of a label attribute's values to the model's classes.

    Attributes:
        classes (list[str]): Class names; index 0 is ``'background'``
            (pixels in no parcel), crops are 1..K in the file's order.
        value_to_class (dict[str, int]): Attribute value (as a stripped
            string) -> class index; values mapped to ``ignore`` -> 255.
        palette (list[list[int]]): RGB per class.
        source (str): The file it came from.
    """

    classes: List[str]
    value_to_class: Dict[str, int]
    palette: List[List[int]]
    source: str = ''

    @property
    def num_crops(self) -> int:
        """K, the number of crop classes (without background)."""
        return len(self.classes) - 1


def value_key(value) -> str:
    """A label value as the nomenclature's key (a stripped string;
    integral floats without the decimal point)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def default_palette(n: int) -> List[List[int]]:
    """Distinct colours: black background, then hues around the wheel."""
    import colorsys
    out = [[0, 0, 0]]
    for i in range(1, n):
        h = ((i - 1) * 0.618034) % 1.
        r, g, b = colorsys.hsv_to_rgb(h, 0.75, 0.9 if i % 2 else 0.7)
        out.append([int(round(255 * v)) for v in (r, g, b)])
    return out


def _parse_colour(text: str, source: str) -> List[int]:
    text = text.strip()
    if text.startswith('#') and len(text) == 7:
        return [int(text[i:i + 2], 16) for i in (1, 3, 5)]
    parts = text.replace(';', ' ').replace(',', ' ').split()
    if len(parts) == 3 and all(p.isdigit() for p in parts):
        return [min(255, int(p)) for p in parts]
    raise SITSDataError(f'{source}: colour {text!r} is neither #rrggbb nor '
                        '"r g b"')


def read_nomenclature(path: str) -> Nomenclature:
    """Read a nomenclature file.

    CSV with a header ``value,class[,color]``: one row per attribute value
    (e.g. a national crop code); several values may share a class. YAML
    (``.yaml`` / ``.yml``): ``{value: class}`` or ``{classes: {value:
    class}, colors: {class: "#rrggbb"}}``. A class named ``ignore`` (or
    empty) sends the value to the ignore label 255. Classes are numbered
    1..K in order of first appearance; 0 is ``background``.

    Args:
        path (str): The file.

    Returns:
        Nomenclature: The mapping.
    """
    if not osp.isfile(path):
        raise SITSDataError(f'{path}: nomenclature file not found')
    rows: List[Tuple[str, str, Optional[str]]] = []
    if path.lower().endswith(('.yaml', '.yml')):
        import yaml
        with open(path) as f:
            data = yaml.safe_load(f)
        if not isinstance(data, dict):
            raise SITSDataError(f'{path}: expected a mapping value: class')
        colours = data.get('colors', {}) if 'classes' in data else {}
        mapping = data['classes'] if 'classes' in data else data
        if not isinstance(mapping, dict):
            raise SITSDataError(f'{path}: "classes" must map value: class')
        for value, name in mapping.items():
            name = '' if name is None else str(name).strip()
            rows.append((value_key(value), name, colours.get(name)))
    else:
        with open(path, newline='') as f:
            reader = csv.DictReader(f)
            cols = [c.strip().lower() for c in reader.fieldnames or []]
            if 'value' not in cols or 'class' not in cols:
                raise SITSDataError(
                    f'{path}: a nomenclature CSV needs the header '
                    f'"value,class[,color]", found {reader.fieldnames}')
            for row in reader:
                row = {k.strip().lower(): (v or '') for k, v in row.items()
                       if k is not None}
                rows.append((value_key(row['value']), row['class'].strip(),
                             row.get('color') or None))
    if not rows:
        raise SITSDataError(f'{path}: the nomenclature is empty')
    classes, colours = ['background'], {}
    value_to_class: Dict[str, int] = {}
    for lineno, (value, name, colour) in enumerate(rows, 2):
        if value in value_to_class:
            raise SITSDataError(f'{path}: value {value!r} is listed twice')
        if name.lower() in _IGNORE_NAMES:
            value_to_class[value] = IGNORE
            continue
        if name.lower() == 'background':
            value_to_class[value] = 0
            continue
        if name not in classes:
            classes.append(name)
        value_to_class[value] = classes.index(name)
        if colour:
            colours[name] = _parse_colour(str(colour), f'{path}:{lineno}')
    if len(classes) == 1:
        raise SITSDataError(f'{path}: no crop class (every value is '
                            'ignore or background)')
    if len(classes) > IGNORE:
        raise SITSDataError(f'{path}: {len(classes) - 1} classes; at most '
                            f'{IGNORE - 1} fit the uint8 labels')
    palette = default_palette(len(classes))
    for i, name in enumerate(classes):
        if name in colours:
            palette[i] = colours[name]
    return Nomenclature(classes, value_to_class, palette, path)


def read_vector(path: str, layer: Optional[str], columns: Sequence[str],
                crs, what: str):
    """Read a vector file (any format GDAL reads), check ``columns`` and
    reproject it to ``crs``.

    Returns:
        geopandas.GeoDataFrame: The features in ``crs``, index reset.
    """
    import geopandas as gpd
    if not osp.exists(path):
        raise SITSDataError(f'{path}: {what} file not found')
    try:
        gdf = gpd.read_file(path, layer=layer)
    except Exception as exc:  # pyogrio / fiona errors
        raise SITSDataError(f'{path}: cannot read {what} ({exc})') from None
    missing = [c for c in columns if c not in gdf.columns]
    if missing:
        raise SITSDataError(
            f'{path}: no column {missing[0]!r} in the {what}; columns: '
            f'{[c for c in gdf.columns if c != "geometry"]}')
    if gdf.crs is None:
        raise SITSDataError(f'{path}: the {what} have no CRS')
    gdf = gdf[~(gdf.geometry.isna() | gdf.geometry.is_empty)]
    if str(gdf.crs) != str(crs):
        gdf = gdf.to_crs(crs)
    return gdf.reset_index(drop=True)


def _inside(gdf, transform, shape) -> np.ndarray:
    """Which features intersect the raster's footprint."""
    from shapely.geometry import box
    h, w = shape
    x0, y0 = transform * (0, 0)
    x1, y1 = transform * (w, h)
    footprint = box(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
    return gdf.geometry.intersects(footprint).to_numpy()


def rasterize_parcels(gdf, column: str, nomenclature: Nomenclature,
                      transform, shape: Tuple[int, int],
                      outside: str = 'background') -> Tuple[np.ndarray, dict]:
    """Pixel labels from parcels with a crop attribute.

    A pixel takes the class of the parcel whose polygon contains its
    centre (GDAL's rasterisation rule). Rules: pixels in no parcel are
    background 0 (``outside='background'``) or ignored (``'ignore'``);
    parcels whose value is not in the nomenclature, or mapped to
    ``ignore``, make their pixels 255; pixels covered by parcels of
    *different* classes are 255 (counted), by several parcels of one class
    that class.

    Args:
        gdf (geopandas.GeoDataFrame): Parcels in the raster's CRS.
        column (str): Crop attribute.
        nomenclature (Nomenclature): Value -> class mapping.
        transform (affine.Affine): Raster transform.
        shape (tuple[int, int]): Raster (H, W).
        outside (str): ``'background'`` or ``'ignore'``.

    Returns:
        tuple[np.ndarray, dict]: uint8 (H, W) labels, and a report:
        ``parcels``, ``outside_scene`` (rows), ``unmapped`` (value ->
        parcels), ``conflict_pixels``, ``parcel_rows`` (int32 (H, W) row
        index + 1 of the parcel of each pixel, 0 none).
    """
    from rasterio.features import MergeAlg, rasterize
    if outside not in ('background', 'ignore'):
        raise ValueError(f'outside must be background or ignore, got '
                         f'{outside!r}')
    inside = _inside(gdf, transform, shape)
    unmapped = Counter()
    cls = np.empty(len(gdf), np.int64)
    for i, value in enumerate(gdf[column].tolist()):
        c = nomenclature.value_to_class.get(value_key(value))
        if c is None:
            unmapped[value_key(value)] += 1
            c = IGNORE
        cls[i] = c
    geoms = [(g, int(i + 1)) for i, g in enumerate(gdf.geometry) if inside[i]]
    kw = dict(out_shape=shape, transform=transform, dtype='int32')
    rows = rasterize(geoms, fill=0, **kw) if geoms else np.zeros(shape,
                                                                 np.int32)
    label = np.full(shape, 0 if outside == 'background' else IGNORE,
                    np.uint8)
    has = rows > 0
    label[has] = cls[rows[has] - 1]
    # conflicts: n parcels with classes c_i cover a pixel; the classes are
    # equal iff n * sum(c^2) == (sum c)^2
    conflict = 0
    if geoms:
        shp = [(g, 1) for g, _ in geoms]
        n = rasterize(shp, fill=0, merge_alg=MergeAlg.add, **kw)
        multi = n > 1
        if multi.any():
            s = rasterize([(g, int(cls[i - 1]) + 1) for g, i in geoms],
                          fill=0, merge_alg=MergeAlg.add, out_shape=shape,
                          transform=transform, dtype='float64')
            s2 = rasterize([(g, float((cls[i - 1] + 1)**2))
                            for g, i in geoms], fill=0,
                           merge_alg=MergeAlg.add, out_shape=shape,
                           transform=transform, dtype='float64')
            bad = multi & (np.abs(n * s2 - s * s) > 0.5)
            label[bad] = IGNORE
            conflict = int(bad.sum())
    report = dict(
        parcels=int(len(gdf)),
        outside_scene=np.flatnonzero(~inside).tolist(),
        unmapped=dict(unmapped.most_common()),
        unmapped_parcels=int(sum(unmapped.values())),
        conflict_pixels=conflict,
        parcel_rows=rows)
    return label, report


def _split_crops(value, sep: str) -> List[str]:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    if isinstance(value, (list, tuple, np.ndarray)):
        items = list(value)
    else:
        items = str(value).split(sep)
    return [value_key(v) for v in items if value_key(v)]


def rasterize_cells(gdf, column: str, nomenclature: Nomenclature,
                    transform, shape: Tuple[int, int], sep: str = ';'
                    ) -> Tuple[np.ndarray, List[np.ndarray], dict]:
    """Image-level labels from polygons or grid cells listing their crops.

    Each cell lists the crops that occur in it (``column``: a string
    separated by ``sep``, or a list); no pixel truth. The cells are
    rasterised to a cell index per pixel (the later cell where cells
    overlap); a window's image label is then the union of the crops of the
    cells it overlaps (:func:`mmexact.geo.training_set.window_image_labels`).
    Crops not in the nomenclature are dropped from the lists and counted.

    Returns:
        tuple: int32 (H, W) cell index + 1 per pixel (0: no cell), the
        multi-hot uint8 (K,) label of each cell, and a report
        (``cells``, ``outside_scene`` rows, ``unmapped`` value -> count,
        ``empty`` rows with no mapped crop).
    """
    from rasterio.features import rasterize
    inside = _inside(gdf, transform, shape)
    k = nomenclature.num_crops
    unmapped, empty, labels = Counter(), [], []
    for i, value in enumerate(gdf[column].tolist()):
        vec = np.zeros(k, np.uint8)
        for crop in _split_crops(value, sep):
            c = nomenclature.value_to_class.get(crop)
            if c is None:
                unmapped[crop] += 1
            elif 1 <= c <= k:
                vec[c - 1] = 1
        labels.append(vec)
        if inside[i] and not vec.any():
            empty.append(i)
    geoms = [(g, i + 1) for i, g in enumerate(gdf.geometry) if inside[i]]
    cells = rasterize(geoms, out_shape=shape, transform=transform, fill=0,
                      dtype='int32') if geoms else np.zeros(shape, np.int32)
    report = dict(
        cells=int(len(gdf)),
        outside_scene=np.flatnonzero(~inside).tolist(),
        unmapped=dict(unmapped.most_common()),
        empty=empty)
    return cells, labels, report
