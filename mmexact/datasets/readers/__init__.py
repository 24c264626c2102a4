# Copyright (c) mmexact contributors. All rights reserved.
from .mtlcc import (MTLCC_CLASS_IDS, load_mtlcc_sample, read_mtlcc_record,
                    read_mtlcc_tile)
from .pastis import dates_to_doy, load_pastis_sample, read_pastis_window
from .pastis24 import load_pastis24_sample, read_pastis24_window
from .pseudo_label import read_pseudo_label
from .registry import SITS_READERS, get_sits_reader
from .sits_window import load_sits_window_sample, read_sits_window
from .tfrecord import crc32c, masked_crc32c, parse_example, read_tfrecord
from .validate import validate_sits_sample

__all__ = [
    'dates_to_doy', 'read_pastis24_window', 'read_pastis_window',
    'read_pseudo_label', 'validate_sits_sample', 'MTLCC_CLASS_IDS',
    'read_mtlcc_record', 'read_mtlcc_tile', 'crc32c', 'masked_crc32c',
    'parse_example', 'read_tfrecord', 'SITS_READERS', 'get_sits_reader',
    'load_pastis24_sample', 'load_pastis_sample', 'load_mtlcc_sample',
    'read_sits_window', 'load_sits_window_sample'
]
