# Copyright (c) mmexact contributors. All rights reserved.
"""Georeferenced inputs and outputs for crop maps of any region.

Sentinel-2 L2A GeoTIFF time series are read as streaming sources of model
inputs (:func:`open_scene`: dates, band matching, L2A scale and offset,
cloud / SCL masks, date selection; STAC catalogs and searches via
per-date VRTs, :mod:`.stac`); class maps and scores are written as
Cloud Optimized GeoTIFFs (:class:`GeoTIFFBlockWriter`), with a PNG
quick-look (:func:`write_quicklook`); parcels get a crop label and a
confidence (:class:`ParcelAggregator`). Needs rasterio (and geopandas /
shapely for parcels); ``import mmexact`` does not import this package.
"""
from .crop_map import write_crop_map
from .dates import (DATE_SELECTIONS, L2A_OFFSET_DATE, date_from_name,
                    parse_date, read_date_list, read_index, select_dates)
from .parcels import PARCEL_COLUMNS, PARCEL_RULES, ParcelAggregator
from .quicklook import write_quicklook
from .scene import (DEFAULT_SCL_INVALID, GeoTIFFScene, open_scene,
                    scene_summary)
from .stac import StacSearch, read_stac_items, search_stac, stac_entries
from .writers import GeoTIFFBlockWriter, class_tags, write_category_names

__all__ = [
    'DATE_SELECTIONS', 'L2A_OFFSET_DATE', 'date_from_name', 'parse_date',
    'read_date_list', 'read_index', 'select_dates', 'PARCEL_COLUMNS',
    'PARCEL_RULES', 'ParcelAggregator', 'write_quicklook',
    'DEFAULT_SCL_INVALID', 'GeoTIFFScene', 'open_scene', 'scene_summary',
    'StacSearch', 'read_stac_items', 'search_stac', 'stac_entries',
    'GeoTIFFBlockWriter', 'class_tags',
    'write_category_names', 'write_crop_map'
]
