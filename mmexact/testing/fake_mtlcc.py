# Copyright (c) mmexact contributors. All rights reserved.
"""Tiny, deterministic MTLCC-format trees (gzip TFRecord tiles).

Includes a minimal TFRecord writer (protobuf ``tf.train.Example``
encoding, record framing and masked CRC-32C) mirroring the reader in
:mod:`mmexact.datasets.readers.tfrecord`. Tiles carry the real feature
names, dtypes and shapes (int64 raw bytes plus ``/shape`` int64 lists) and
MTLCC's padding to a fixed length with -1. Content is synthetic: rectangles
of crop ids on unknown (0) ground with a class-specific seasonal curve.
"""
import gzip
import os
import os.path as osp
import struct
from typing import Dict, Optional, Sequence, Union

import numpy as np

from mmexact.datasets.readers.tfrecord import masked_crc32c

__all__ = [
    'encode_example', 'write_tfrecord', 'write_mtlcc_tile', 'make_fake_mtlcc'
]


def _varint(value: int) -> bytes:
    value &= 0xFFFFFFFFFFFFFFFF  # int64 as two's complement
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited (wire type 2) field."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def encode_example(
        features: Dict[str, Union[Sequence[bytes], np.ndarray]]) -> bytes:
    """Serialize a ``tf.train.Example``.

    Args:
        features (dict): Per key, a list of bytes (``bytes_list``), a float
            array (``float_list``, packed float32) or an integer array
            (``int64_list``, packed varints).

    Returns:
        bytes: The serialized message.
    """
    entries = []
    for key, value in features.items():
        if isinstance(value, np.ndarray) and value.dtype.kind == 'f':
            data = np.asarray(value, dtype='<f4').tobytes()
            feature = _field(2, _field(1, data))
        elif isinstance(value, np.ndarray) and value.dtype.kind in 'iub':
            data = b''.join(_varint(int(v)) for v in value.reshape(-1))
            feature = _field(3, _field(1, data))
        else:
            feature = _field(1, b''.join(_field(1, bytes(v)) for v in value))
        entry = _field(1, key.encode('utf-8')) + _field(2, feature)
        entries.append(_field(1, entry))
    return _field(1, b''.join(entries))


def write_tfrecord(path: str,
                   payloads: Sequence[bytes],
                   compress: bool = True,
                   compresslevel: int = 1) -> str:
    """Write records with TFRecord framing (gzip by default).

    Args:
        path (str): Output file.
        payloads (Sequence[bytes]): Record payloads.
        compress (bool): Gzip the stream. Defaults to True.
        compresslevel (int): Gzip level; 1 (fastest) by default.

    Returns:
        str: ``path``.
    """
    chunks = []
    for payload in payloads:
        header = struct.pack('<Q', len(payload))
        chunks += [
            header,
            struct.pack('<I', masked_crc32c(header)), payload,
            struct.pack('<I', masked_crc32c(payload))
        ]
    stream = b''.join(chunks)
    with open(path, 'wb') as f:
        if compress:
            stream = gzip.compress(stream, compresslevel, mtime=0)
        f.write(stream)
    return path


def write_mtlcc_tile(path: str, x10: np.ndarray, x20: np.ndarray,
                     x60: np.ndarray, labels: np.ndarray, doy: np.ndarray,
                     year: np.ndarray) -> str:
    """Write one MTLCC tile: arrays as int64 raw bytes + ``/shape``.

    Args:
        path (str): ``<tile>.tfrecord.gz``.
        x10 (np.ndarray): (T, H, W, 4).
        x20 (np.ndarray): (T, H/2, W/2, 6).
        x60 (np.ndarray): (T, H/6, W/6, 3).
        labels (np.ndarray): (T, H, W) MTLCC class ids.
        doy (np.ndarray): (T,) day of year (-1 for padding).
        year (np.ndarray): (T,).

    Returns:
        str: ``path``.
    """

    def raw(a):
        return [np.ascontiguousarray(a, dtype='<i8').tobytes()]

    def shape(a):
        return np.asarray(np.shape(a), dtype=np.int64)

    features = {}
    for name, array in (('x10', x10), ('x20', x20), ('x60', x60),
                        ('labels', labels)):
        features[f'{name}/data'] = raw(array)
        features[f'{name}/shape'] = shape(array)
    features.update({
        'dates/doy': raw(doy),
        'dates/year': raw(year),
        'dates/shape': shape(doy)
    })
    return write_tfrecord(path, [encode_example(features)])


def _pool(x: np.ndarray, k: int) -> np.ndarray:
    """Mean-pool (T, H, W, C) by ``k`` in H and W."""
    t, h, w, c = x.shape
    return x.reshape(t, h // k, k, w // k, k, c).mean(axis=(2, 4))


def _fake_tile(rng: np.random.Generator, size: int, num_valid: int,
               padded_len: int, classes: Sequence[int], year: int) -> dict:
    sem = np.zeros((size, size), np.int64)
    for _ in range(rng.integers(3, 7)):
        h, w = rng.integers(size // 6, size // 2 + 1, 2)
        y, x = rng.integers(0, size - h + 1), rng.integers(0, size - w + 1)
        sem[y:y + h, x:x + w] = rng.choice(classes)
    doy = np.sort(rng.choice(np.arange(40, 330), num_valid, replace=False))
    phase = (sem % 7) * 0.9
    level = 500 + 250 * np.arange(13)
    season = np.sin(2 * np.pi * doy[:, None, None, None] / 365. +
                    phase[None, :, :, None])
    img = level * (1 + 0.4 * season) + rng.normal(0, 50,
                                                  (num_valid, size, size, 13))
    img = np.clip(img, 1, 20000)
    pad = padded_len - num_valid

    def padded(a):
        a = np.rint(a).astype(np.int64)
        return np.concatenate([a, np.full((pad, ) + a.shape[1:], -1)])

    return dict(
        x10=padded(img[..., :4]),
        x20=padded(_pool(img[..., 4:10], 2)),
        x60=padded(_pool(img[..., 10:], 6)),
        labels=padded(np.broadcast_to(sem, (num_valid, size, size))),
        doy=padded(doy),
        year=padded(np.full(num_valid, year)))


def make_fake_mtlcc(root: str,
                    num_tiles: int = 6,
                    size: int = 24,
                    num_frames: Sequence[int] = (5, 8),
                    padded_len: int = 52,
                    classes: Sequence[int] = (0, 2, 5, 22, 23, 26),
                    splits: Optional[Dict[str, Sequence[int]]] = None,
                    season: str = 'data17',
                    seed: int = 0) -> str:
    """Write an MTLCC (``data_IJGI18``) tree.

    Layout (``<set>`` is ``240`` for 24 px tiles, else ``size * 10``)::

        datasets/full/<set>/<season>/<id>.tfrecord.gz
        datasets/full/<set>/tileids/{train_fold0,test_fold0,eval}.tileids

    Args:
        root (str): Output directory (created).
        num_tiles (int): Tiles, with ids ``1000 + i``.
        size (int): Tile side, a multiple of 6 (MTLCC: 24 or 48).
        num_frames (Sequence[int]): Inclusive range of valid dates.
        padded_len (int): Stored T, padded with -1 (MTLCC: 52).
        classes (Sequence[int]): MTLCC ids that may appear (0 = unknown).
        splits (dict, optional): Tile indices per tile-id file name;
            defaults to ``i % 3`` -> train_fold0 / test_fold0 / eval.
        season (str): Tile folder, ``'data17'`` (year 2017) or
            ``'data16'`` (2016).
        seed (int): Random seed.

    Returns:
        str: ``root``.
    """
    if size % 6:
        raise ValueError('size must be a multiple of 6')
    rng = np.random.default_rng(seed)
    year = 2000 + int(season[-2:]) if season[-2:].isdigit() else 2017
    base = osp.join(root, 'datasets', 'full', str(size * 10))
    os.makedirs(osp.join(base, season), exist_ok=True)
    os.makedirs(osp.join(base, 'tileids'), exist_ok=True)
    for i in range(num_tiles):
        t = int(rng.integers(num_frames[0], num_frames[1] + 1))
        tile = _fake_tile(rng, size, t, max(padded_len, t), classes, year)
        write_mtlcc_tile(
            osp.join(base, season, f'{1000 + i}.tfrecord.gz'), **tile)
    if splits is None:
        names = ('train_fold0', 'test_fold0', 'eval')
        splits = {
            name: [i for i in range(num_tiles) if i % 3 == k]
            for k, name in enumerate(names)
        }
    for name, indices in splits.items():
        with open(osp.join(base, 'tileids', f'{name}.tileids'), 'w') as f:
            f.writelines(f'{1000 + i}\n' for i in indices)
    return root
