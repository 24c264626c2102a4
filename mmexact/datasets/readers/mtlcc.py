# Copyright (c) mmexact contributors. All rights reserved.
"""Reader for MTLCC ("Germany") tiles: one gzip TFRecord per tile."""
from typing import Dict, Optional, Tuple

import numpy as np
import torch
import torch.nn.functional as F

from ...structures import MTLCC_BANDS, SITSDataError
from .registry import SITS_READERS
from .tfrecord import parse_example, read_tfrecord
from .validate import validate_sits_sample

__all__ = [
    'MTLCC_CLASS_IDS', 'read_mtlcc_record', 'read_mtlcc_tile',
    'load_mtlcc_sample'
]

# Original MTLCC crop ids; the i-th id becomes class i + 1 (0 = unknown).
MTLCC_CLASS_IDS = (1, 2, 3, 5, 8, 9, 12, 13, 15, 16, 17, 19, 22, 23, 24, 25,
                   26)
# group name, bands, ground sampling distance relative to 10 m
_GROUPS = (('x10', 4, 1), ('x20', 6, 2), ('x60', 3, 6))
_UNKNOWN = {'background': 0, 'ignore': 255}


def _int64_feature(feats: dict, key: str, path: str) -> np.ndarray:
    if key not in feats:
        raise SITSDataError(f'{path}: feature "{key}" missing (not an MTLCC '
                            'tile?)')
    value = feats[key]
    if isinstance(value, np.ndarray) and value.dtype == np.int64:
        return value
    if isinstance(value, list) and len(value) == 1:
        if len(value[0]) % 8:
            raise SITSDataError(f'{path}: "{key}" holds {len(value[0])} '
                                'bytes, not a whole number of int64')
        return np.frombuffer(value[0], dtype='<i8').astype(np.int64)
    raise SITSDataError(f'{path}: "{key}" must be int64 raw bytes or an '
                        'int64_list')


def _array(feats: dict,
           name: str,
           path: str,
           key: Optional[str] = None) -> np.ndarray:
    data = _int64_feature(feats, key or f'{name}/data', path)
    shape = tuple(_int64_feature(feats, f'{name}/shape', path).tolist())
    if any(s < 0 for s in shape) or int(np.prod(shape)) != data.size:
        raise SITSDataError(f'{path}: "{key or name + "/data"}" has '
                            f'{data.size} values, shape feature says '
                            f'{shape}')
    return data.reshape(shape)


def read_mtlcc_record(path: str,
                      verify_crc: bool = True) -> Dict[str, np.ndarray]:
    """Decode an MTLCC tile into its raw int64 arrays (padding kept).

    Args:
        path (str): ``<tile>.tfrecord.gz`` holding one ``tf.train.Example``.
        verify_crc (bool): Check the TFRecord CRCs. Defaults to True.

    Returns:
        dict: ``x10`` (T, H, W, 4), ``x20`` (T, H/2, W/2, 6), ``x60``
        (T, H/6, W/6, 3), ``labels`` (T, H, W), ``doy`` (T,) and ``year``
        (T,), all int64 as stored (padded steps hold -1).
    """
    records = read_tfrecord(path, verify_crc=verify_crc)
    if len(records) != 1:
        raise SITSDataError(f'{path}: expected one record per MTLCC tile, '
                            f'found {len(records)}')
    feats = parse_example(records[0], path)
    out = {name: _array(feats, name, path) for name, _, _ in _GROUPS}
    out['labels'] = _array(feats, 'labels', path)
    out['doy'] = _array(feats, 'dates', path, 'dates/doy')
    out['year'] = _array(feats, 'dates', path, 'dates/year')
    x10 = out['x10']
    if x10.ndim != 4:
        raise SITSDataError(f'{path}: x10 must be (T, H, W, 4), got '
                            f'{x10.shape}')
    t, h, w = x10.shape[:3]
    for name, bands, factor in _GROUPS:
        want = (t, h // factor, w // factor, bands)
        if out[name].shape != want or h % factor or w % factor:
            raise SITSDataError(f'{path}: {name} has shape '
                                f'{out[name].shape}, expected {want}')
    if out['labels'].shape != (t, h, w):
        raise SITSDataError(f'{path}: labels have shape '
                            f'{out["labels"].shape}, expected {(t, h, w)}')
    if out['doy'].shape != (t, ) or out['year'].shape != (t, ):
        raise SITSDataError(f'{path}: dates have shape {out["doy"].shape}, '
                            f'expected ({t},)')
    return out


def _map_labels(raw: np.ndarray, unknown_as: str, path: str) -> np.ndarray:
    lut = np.full(max(MTLCC_CLASS_IDS) + 1, -1, dtype=np.int64)
    lut[0] = _UNKNOWN[unknown_as]
    lut[list(MTLCC_CLASS_IDS)] = np.arange(1, len(MTLCC_CLASS_IDS) + 1)
    inside = (raw >= 0) & (raw < lut.size)
    mapped = np.where(inside, lut[np.clip(raw, 0, lut.size - 1)], -1)
    if (mapped < 0).any():
        bad = np.unique(raw[mapped < 0]).tolist()
        raise SITSDataError(f'{path}: unknown MTLCC class id(s) {bad[:5]} '
                            f'(valid: 0, {list(MTLCC_CLASS_IDS)})')
    return mapped.astype(np.uint8)


def read_mtlcc_tile(path: str,
                    unknown_as: str = 'background',
                    window: Optional[Tuple[int, int, int, int]] = None,
                    verify_crc: bool = True) -> Dict[str, np.ndarray]:
    """Read an MTLCC tile as a 13-band 10 m time series.

    Time steps whose day of year is -1 (MTLCC's padding to T = 52) are
    dropped; the others keep their file order. ``img`` stacks the bands of
    :data:`MTLCC_BANDS` (x10, x20, x60 groups) in raw units (reflectance x
    1e4, as stored), the 20 m and 60 m groups upsampled to the 10 m grid
    with ``F.interpolate(mode='bilinear', align_corners=False)`` (TSViT's
    resampling) before ``window`` is cut, so window borders see their real
    neighbours. Labels are those of the first valid step, MTLCC ids mapped
    to 1..17 in :data:`MTLCC_CLASS_IDS` order, unknown (0) to 0
    (``unknown_as='background'``) or 255 (``'ignore'``).

    Args:
        path (str): ``<tile>.tfrecord.gz``.
        unknown_as (str): ``'background'`` or ``'ignore'``.
        window (tuple[int, int, int, int], optional): ``(y0, x0, height,
            width)`` of the 10 m grid to return; the whole tile if None.
        verify_crc (bool): Check the TFRecord CRCs. Defaults to True.

    Returns:
        dict: ``img`` float32 (T, 13, h, w), ``doy`` int64 (T,), ``year``
        int64 (T,), ``labels`` uint8 (h, w) in 0..17 or 255.
    """
    if unknown_as not in _UNKNOWN:
        raise ValueError(f'unknown_as must be one of {sorted(_UNKNOWN)}, '
                         f'got {unknown_as!r}')
    raw = read_mtlcc_record(path, verify_crc=verify_crc)
    keep = np.flatnonzero(raw['doy'] != -1)
    if keep.size == 0:
        raise SITSDataError(f'{path}: every time step is padding (doy -1)')
    h, w = raw['x10'].shape[1:3]
    groups = []
    for name, _, _ in _GROUPS:
        x = torch.from_numpy(
            np.ascontiguousarray(raw[name][keep].transpose(0, 3, 1, 2),
                                 dtype=np.float32))
        if x.shape[-2:] != (h, w):
            x = F.interpolate(
                x, size=(h, w), mode='bilinear', align_corners=False)
        groups.append(x)
    img = torch.cat(groups, dim=1).numpy()
    labels = _map_labels(raw['labels'][keep[0]], unknown_as, path)
    source = path
    if window is not None:
        y0, x0, wh, ww = window
        if y0 < 0 or x0 < 0 or y0 + wh > h or x0 + ww > w:
            raise SITSDataError(f'{path}: window {tuple(window)} exceeds '
                                f'the tile size {(h, w)}')
        img = np.ascontiguousarray(img[:, :, y0:y0 + wh, x0:x0 + ww])
        labels = np.ascontiguousarray(labels[y0:y0 + wh, x0:x0 + ww])
        source = f'{path}[{tuple(window)}]'
    doy = raw['doy'][keep]
    validate_sits_sample(img, doy, labels, source,
                         max_label=len(MTLCC_CLASS_IDS), ignore_index=255)
    return dict(img=img, doy=doy, year=raw['year'][keep], labels=labels)


@SITS_READERS.register_module(name='mtlcc')
def load_mtlcc_sample(info: dict) -> Dict[str, np.ndarray]:
    """Reader ``'mtlcc'``: ``info['window']`` (or the whole tile) of the
    TFRecord tile ``info['img_path']``, unknown labels as
    ``info['unknown_as']`` (default ``'background'``)."""
    return read_mtlcc_tile(
        info['img_path'],
        unknown_as=info.get('unknown_as', 'background'),
        window=info.get('window'))
