# Copyright (c) mmexact contributors. All rights reserved.
"""Registry of SITS sample readers, looked up by the ``sits_format`` name.

A reader maps a dataset's data info (``img_path`` and whatever the dataset
stores: ``target_path``, ``dates``, ``window``, ...) to a dict with ``img``
(T, C, H, W), ``doy`` (T,) and ``labels`` (H, W) or None. Datasets set
``sits_format`` in their data infos and ``LoadSITSSample`` calls the
registered reader, so a new layout is one registered function::

    from mmexact.datasets.readers import SITS_READERS

    @SITS_READERS.register_module(name='my_format')
    def read_my_sample(info: dict) -> dict:
        ...
        return dict(img=img, doy=doy, labels=labels)
"""
from typing import Callable

from mmengine.registry import Registry

from ...structures import SITSDataError

__all__ = ['SITS_READERS', 'get_sits_reader']

SITS_READERS = Registry('SITS sample reader', scope='mmexact')


def get_sits_reader(name: str, source: str = 'sample') -> Callable:
    """The reader registered as ``name``.

    Args:
        name (str): The ``sits_format`` of a data info.
        source (str): Name of the sample, for the error message.

    Raises:
        SITSDataError: If no reader has that name.
    """
    reader = SITS_READERS.get(name) if isinstance(name, str) else None
    if reader is None:
        raise SITSDataError(
            f'{source}: unknown sits_format {name!r}; registered readers: '
            f'{sorted(SITS_READERS.module_dict)}')
    return reader
