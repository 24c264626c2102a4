# Copyright (c) mmexact contributors. All rights reserved.
"""Minimal TFRecord + ``tf.train.Example`` reader (no TensorFlow needed).

A TFRecord stream (optionally gzip-compressed) is a sequence of records::

    uint64 length | uint32 masked_crc32c(length) | payload |
    uint32 masked_crc32c(payload)

all little-endian, where ``masked_crc32c(x) = ((c >> 15) | (c << 17)) +
0xa282ead8 (mod 2**32)`` with ``c`` the CRC-32C (Castagnoli) of ``x``.
The payload of a ``tf.train.Example`` is the protobuf::

    Example  { Features features = 1; }
    Features { map<string, Feature> feature = 1; }
    Feature  { oneof kind { BytesList bytes_list = 1;
                            FloatList float_list = 2;
                            Int64List int64_list = 3; } }
    BytesList { repeated bytes value = 1; }
    FloatList { repeated float value = 1 [packed = true]; }
    Int64List { repeated int64 value = 1 [packed = true]; }

Repeated numbers are accepted packed or unpacked, as protobuf requires.
"""
import gzip
import struct
import zlib
from typing import Dict, List, Tuple, Union

import google_crc32c
import numpy as np

from ...structures import SITSDataError

__all__ = ['crc32c', 'masked_crc32c', 'read_tfrecord', 'parse_example']

FeatureValue = Union[List[bytes], np.ndarray]

_MASK_DELTA = 0xA282EAD8


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli) of ``data``, e.g. ``0xE3069283`` for
    ``b'123456789'`` (computed by the ``google-crc32c`` package).

    Args:
        data (bytes): Message (any bytes-like object).

    Returns:
        int: The 32-bit checksum.
    """
    return google_crc32c.value(bytes(data))


def masked_crc32c(data: bytes) -> int:
    """TFRecord's masked CRC-32C of ``data``.

    Args:
        data (bytes): Message.

    Returns:
        int: ``((c >> 15) | (c << 17)) + 0xa282ead8`` modulo 2**32.
    """
    crc = crc32c(data)
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) +
            _MASK_DELTA) & 0xFFFFFFFF


def read_tfrecord(path: str, verify_crc: bool = True) -> List[bytes]:
    """Read every record payload of a (gzip) TFRecord file.

    Gzip compression is detected from the magic bytes.

    Args:
        path (str): ``.tfrecord`` or ``.tfrecord.gz`` file.
        verify_crc (bool): Check both masked CRCs of every record.
            Defaults to True.

    Returns:
        list[bytes]: The payloads, in file order.

    Raises:
        SITSDataError: Unreadable file, bad gzip stream, truncated record
            or CRC mismatch; the message names ``path``.
    """
    try:
        with open(path, 'rb') as f:
            raw = f.read()
    except OSError as exc:
        raise SITSDataError(f'{path}: cannot read TFRecord file '
                            f'({exc})') from exc
    if raw[:2] == b'\x1f\x8b':
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise SITSDataError(f'{path}: corrupt or truncated gzip stream '
                                f'({exc})') from exc
    records, pos, size = [], 0, len(raw)
    while pos < size:
        where = f'{path}: record {len(records)} at byte {pos}'
        if size - pos < 12:
            raise SITSDataError(f'{where}: truncated header '
                                f'({size - pos} of 12 bytes)')
        length, length_crc = struct.unpack_from('<QI', raw, pos)
        if verify_crc and masked_crc32c(raw[pos:pos + 8]) != length_crc:
            raise SITSDataError(f'{where}: length CRC mismatch (corrupt '
                                'file)')
        start, end = pos + 12, pos + 12 + length
        if end + 4 > size:
            raise SITSDataError(f'{where}: truncated record (needs '
                                f'{length + 16} bytes, {size - pos} left)')
        payload = raw[start:end]
        (payload_crc, ) = struct.unpack_from('<I', raw, end)
        if verify_crc and masked_crc32c(payload) != payload_crc:
            raise SITSDataError(f'{where}: payload CRC mismatch (corrupt '
                                'file)')
        records.append(payload)
        pos = end + 4
    return records


class _Malformed(Exception):
    """Internal: a protobuf decoding error (turned into SITSDataError)."""


def _varint(buf: memoryview, pos: int, end: int) -> Tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= end:
            raise _Malformed(f'truncated varint at byte {pos}')
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result & 0xFFFFFFFFFFFFFFFF, pos
        shift += 7
        if shift >= 70:
            raise _Malformed(f'varint longer than 10 bytes at byte {pos}')


def _fields(buf: memoryview, pos: int, end: int):
    """Yield ``(field, wire_type, value)`` of one message in ``[pos, end)``.

    ``value`` is the integer for wire type 0 (varint) and the ``(start,
    stop)`` byte span of the value for wire types 1, 2 and 5.
    """
    while pos < end:
        key, pos = _varint(buf, pos, end)
        field, wire = key >> 3, key & 7
        if field == 0:
            raise _Malformed(f'field number 0 at byte {pos}')
        if wire == 0:
            value, pos = _varint(buf, pos, end)
        elif wire in (1, 5):
            width = 8 if wire == 1 else 4
            if pos + width > end:
                raise _Malformed(f'truncated fixed{width * 8} at byte {pos}')
            value = (pos, pos + width)
            pos += width
        elif wire == 2:
            length, pos = _varint(buf, pos, end)
            if pos + length > end:
                raise _Malformed(f'length {length} at byte {pos} overruns '
                                 'its message')
            value = (pos, pos + length)
            pos += length
        else:
            raise _Malformed(f'unsupported wire type {wire} at byte {pos}')
        yield field, wire, value


def _packed_varints(data: bytes) -> np.ndarray:
    """Decode concatenated varints as int64 (two's complement)."""
    arr = np.frombuffer(data, dtype=np.uint8)
    if arr.size == 0:
        return np.zeros(0, dtype=np.int64)
    if arr[-1] & 0x80:
        raise _Malformed('truncated packed varint')
    ends = np.flatnonzero(arr < 0x80)
    starts = np.concatenate([[0], ends[:-1] + 1])
    if (ends - starts).max() >= 10:
        raise _Malformed('packed varint longer than 10 bytes')
    offset = np.arange(arr.size) - np.repeat(starts, ends - starts + 1)
    parts = (arr & 0x7F).astype(np.uint64) << (7 * offset).astype(np.uint64)
    return np.bitwise_or.reduceat(parts, starts).view(np.int64)


def _parse_list(buf: memoryview, span: Tuple[int, int],
                kind: str) -> FeatureValue:
    values, chunks = [], []
    for field, wire, value in _fields(buf, *span):
        if field != 1:
            continue
        if kind == 'bytes_list':
            if wire != 2:
                raise _Malformed(f'bytes_list value with wire type {wire}')
            values.append(bytes(buf[value[0]:value[1]]))
        elif kind == 'float_list':
            if wire not in (2, 5):
                raise _Malformed(f'float_list value with wire type {wire}')
            if (value[1] - value[0]) % 4:  # wire type 5: always 4 bytes
                raise _Malformed('packed float_list length is not a '
                                 'multiple of 4')
            chunks.append(bytes(buf[value[0]:value[1]]))
        else:
            if wire == 0:
                chunks.append(np.array([value], np.uint64).view(np.int64))
            elif wire == 2:
                chunks.append(_packed_varints(bytes(buf[value[0]:value[1]])))
            else:
                raise _Malformed(f'int64_list value with wire type {wire}')
    if kind == 'bytes_list':
        return values
    if kind == 'float_list':
        return np.frombuffer(b''.join(chunks), dtype='<f4').astype(
            np.float32)
    return (np.concatenate(chunks) if chunks else np.zeros(0, np.int64))


_KINDS = {1: 'bytes_list', 2: 'float_list', 3: 'int64_list'}


def _parse_feature(buf: memoryview, span: Tuple[int, int]) -> FeatureValue:
    result = []  # an unset oneof reads as an empty list
    for field, wire, value in _fields(buf, *span):
        if field in _KINDS:
            if wire != 2:
                raise _Malformed(f'Feature field {field} with wire type '
                                 f'{wire}')
            result = _parse_list(buf, value, _KINDS[field])
    return result


def parse_example(payload: bytes,
                  source: str = '<bytes>') -> Dict[str, FeatureValue]:
    """Decode a serialized ``tf.train.Example``.

    Args:
        payload (bytes): Serialized message (a TFRecord payload).
        source (str): Name used in error messages (e.g. the file).

    Returns:
        dict[str, list[bytes] | np.ndarray]: Per feature key, a list of
        bytes (``bytes_list``), a float32 array (``float_list``) or an
        int64 array (``int64_list``). A feature with no kind set is ``[]``.

    Raises:
        SITSDataError: Malformed protobuf, naming ``source``.
    """
    buf = memoryview(payload)
    features = {}
    try:
        for field, wire, value in _fields(buf, 0, len(buf)):
            if field != 1:
                continue
            if wire != 2:
                raise _Malformed(f'Example.features with wire type {wire}')
            for f2, w2, entry in _fields(buf, *value):
                if f2 != 1:
                    continue
                if w2 != 2:
                    raise _Malformed(f'Features.feature with wire type {w2}')
                key, feature = '', []
                for f3, w3, item in _fields(buf, *entry):
                    if f3 in (1, 2) and w3 != 2:
                        raise _Malformed(f'map entry field {f3} with wire '
                                         f'type {w3}')
                    if f3 == 1:
                        key = bytes(buf[item[0]:item[1]]).decode('utf-8')
                    elif f3 == 2:
                        feature = _parse_feature(buf, item)
                features[key] = feature
    except _Malformed as exc:
        raise SITSDataError(f'{source}: malformed tf.train.Example '
                            f'({exc})') from None
    except UnicodeDecodeError as exc:
        raise SITSDataError(f'{source}: malformed tf.train.Example (feature '
                            f'key is not UTF-8: {exc})') from None
    return features
