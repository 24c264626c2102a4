# Copyright (c) mmexact contributors. All rights reserved.
"""MTLCC / Germany: TFRecord codec, tile reader, dataset, models."""
import copy
import gzip
import os.path as osp
import struct

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.logging import MessageHub

import mmexact.exact  # noqa: F401  (Exact's components)
from mmexact.datasets import MTLCCDataset
from mmexact.datasets.readers import (crc32c, masked_crc32c, parse_example,
                                      read_mtlcc_record, read_mtlcc_tile,
                                      read_tfrecord)
from mmexact.structures import MTLCC_BANDS, SITSDataError
from mmexact.testing import (encode_example, make_fake_mtlcc,
                             tiny_segmentor_cfg, write_mtlcc_tile,
                             write_tfrecord)
from mmseg.registry import MODELS

DATA = 'mtlcc-crop_segmentation'
TILEIDS = 'datasets/full/240/tileids/'
# file, H = W, valid dates, doy range, MTLCC ids -> mmexact classes
REAL = [('43757.tfrecord.gz', 24, 15, (54, 319), {0, 4, 7, 13, 14, 15, 17}),
        ('847.tfrecord.gz', 48, 10, (54, 297), {0, 2, 13, 14, 17})]


@pytest.fixture(scope='module')
def mtlcc24(tmp_path_factory) -> str:
    root = str(tmp_path_factory.mktemp('mtlcc24'))
    return make_fake_mtlcc(root, num_tiles=6, padded_len=20, seed=0)


@pytest.fixture(scope='module')
def repo_root_module() -> str:
    return osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.fixture(scope='module')
def pipeline(repo_root_module) -> list:
    """The test pipeline of the MTLCC base config."""
    cfg = Config.fromfile(
        osp.join(repo_root_module, 'configs/_base_/datasets/mtlcc.py'))
    return cfg.test_pipeline


def _arrays(rng, t=6, size=12, pad=3) -> dict:
    """Random raw MTLCC arrays with ``pad`` trailing padded steps."""
    arrays = dict(
        x10=rng.integers(0, 12000, (t, size, size, 4)),
        x20=rng.integers(0, 12000, (t, size // 2, size // 2, 6)),
        x60=rng.integers(0, 12000, (t, size // 6, size // 6, 3)),
        labels=np.broadcast_to(
            rng.choice([0, 1, 26], (size, size)), (t, size, size)).copy(),
        doy=np.sort(rng.choice(np.arange(1, 367), t, replace=False)),
        year=np.full(t, 2016))
    for value in arrays.values():
        value[t - pad:] = -1
    return arrays


def _stream(path) -> bytes:
    with gzip.open(path) as f:
        return f.read()


def test_crc32c():
    assert crc32c(b'123456789') == 0xE3069283
    assert crc32c(b'') == 0
    # RFC 3720 (iSCSI) B.4 test vectors
    assert crc32c(bytes(32)) == 0x8A9136AA
    assert crc32c(b'\xff' * 32) == 0x62A8AB43
    assert crc32c(bytes(range(32))) == 0x46DD794E
    assert crc32c(bytes(range(31, -1, -1))) == 0x113FDB5C
    # a long message, any bytes-like input (value of the former NumPy code)
    data = bytes(range(256)) * 391 + b'xyz'
    assert crc32c(data) == crc32c(bytearray(data)) == 0xD0083861
    assert crc32c(memoryview(data)[:9 * 256]) == crc32c(data[:9 * 256])
    crc = crc32c(b'abc')
    assert masked_crc32c(b'abc') == (
        ((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF
    assert masked_crc32c(b'') == 0xA282EAD8
    assert masked_crc32c(b'123456789') == 0xC78AB0E5
    assert masked_crc32c(data) == 0x13468AE8


def test_example_codec_round_trip():
    feats = {
        'b': [b'', b'\x00\xffxyz'],
        'f': np.array([1.5, -2.25, 3e38], np.float32),
        'i': np.array([0, 1, -1, 300, 2**63 - 1, -2**63], np.int64),
        'empty': np.zeros(0, np.int64),
    }
    out = parse_example(encode_example(feats))
    assert out['b'] == feats['b']
    assert out['f'].dtype == np.float32 and (out['f'] == feats['f']).all()
    assert out['i'].dtype == np.int64 and (out['i'] == feats['i']).all()
    assert out['empty'].size == 0
    # unpacked repeated int64 (wire type 0) and float (wire type 5)
    ints = b'\x08\x05\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01'
    floats = b'\x0d' + struct.pack('<f', 0.5)
    msg = b''
    for key, kind, body in ((b'u', 3, ints), (b'v', 2, floats)):
        feature = bytes([kind << 3 | 2, len(body)]) + body
        entry = (b'\x0a' + bytes([len(key)]) + key + b'\x12' +
                 bytes([len(feature)]) + feature)
        msg += b'\x0a' + bytes([len(entry)]) + entry
    out = parse_example(b'\x0a' + bytes([len(msg)]) + msg)
    assert out['u'].tolist() == [5, -1]
    assert out['v'].tolist() == [0.5]
    with pytest.raises(SITSDataError, match='x.bin: malformed'):
        parse_example(b'\x0a\x05\x0a\x09', 'x.bin')


def test_tile_round_trip_and_errors(tmp_path):
    arrays = _arrays(np.random.default_rng(0))
    path = write_mtlcc_tile(str(tmp_path / '7.tfrecord.gz'), **arrays)
    raw = read_mtlcc_record(path)
    assert set(raw) == set(arrays)
    for key, value in arrays.items():
        assert raw[key].dtype == np.int64
        assert np.array_equal(raw[key], value), key
    tile = read_mtlcc_tile(path)
    assert tile['img'].shape == (3, 13, 12, 12)
    assert np.array_equal(tile['img'][:, :4],
                          arrays['x10'][:3].transpose(0, 3, 1, 2))
    assert np.array_equal(tile['doy'], arrays['doy'][:3])
    ids = arrays['labels'][0]
    assert np.array_equal(tile['labels'], np.select([ids == 1, ids == 26],
                                                    [1, 17], 0))
    ignore = read_mtlcc_tile(path, unknown_as='ignore')['labels']
    assert (ignore[ids == 0] == 255).all()

    stream = _stream(path)
    name = str(tmp_path / 'bad.tfrecord.gz')
    write_tfrecord(name, [])  # an empty stream is valid
    assert read_tfrecord(name) == []
    for pos, msg in ((3, 'length CRC mismatch'),
                     (len(stream) // 2, 'payload CRC mismatch')):
        bad = bytearray(stream)
        bad[pos] ^= 0x10
        with open(name, 'wb') as f:
            f.write(gzip.compress(bytes(bad)))
        with pytest.raises(SITSDataError, match=f'bad.tfrecord.gz.*{msg}'):
            read_mtlcc_tile(name)
    for cut, msg in ((len(stream) - 1, 'truncated record'),
                     (5, 'truncated header')):
        with open(name, 'wb') as f:
            f.write(gzip.compress(stream[:cut]))
        with pytest.raises(SITSDataError, match=f'bad.tfrecord.gz.*{msg}'):
            read_tfrecord(name)
    with open(name, 'wb') as f:
        f.write(gzip.compress(stream)[:-20])
    with pytest.raises(SITSDataError, match='bad.tfrecord.gz: corrupt or '
                       'truncated gzip'):
        read_tfrecord(name)

    arrays['labels'][0, 0, 0] = 4  # not an MTLCC crop id
    write_mtlcc_tile(name, **arrays)
    with pytest.raises(SITSDataError,
                       match=r'bad.tfrecord.gz: unknown MTLCC class id\(s\) '
                       r'\[4\]'):
        read_mtlcc_tile(name)


@pytest.mark.parametrize('name,size,t,doy_range,classes', REAL,
                         ids=[r[0] for r in REAL])
def test_real_tiles(real_data, name, size, t, doy_range, classes):
    path = real_data(DATA, name)
    raw = read_mtlcc_record(path)
    assert raw['x10'].shape == (52, size, size, 4)
    assert raw['x60'].shape == (52, size // 6, size // 6, 3)
    assert (raw['doy'][t:] == -1).all() and (raw['x20'][t:] == -1).all()
    tile = read_mtlcc_tile(path)
    img, doy = tile['img'], tile['doy']
    assert len(MTLCC_BANDS) == 13
    assert img.shape == (t, 13, size, size) and img.dtype == np.float32
    assert (doy.min(), doy.max()) == doy_range
    assert (np.diff(doy) > 0).all() and (tile['year'] == 2017).all()
    assert set(np.unique(tile['labels']).tolist()) == classes
    assert np.array_equal(img[:, :4], raw['x10'][:t].transpose(0, 3, 1, 2))
    for name_, sl in (('x20', slice(4, 10)), ('x60', slice(10, 13))):
        ref = F.interpolate(
            torch.from_numpy(raw[name_][:t].transpose(0, 3, 1, 2)).float(),
            size=(size, size), mode='bilinear', align_corners=False)
        assert np.array_equal(img[:, sl], ref.numpy())
    assert 0 < img.min() and img.max() < 20000  # reflectance x 1e4


def test_real_windows_through_dataset(real_data, tmp_path, pipeline):
    folder = osp.dirname(real_data(DATA, '847.tfrecord.gz'))
    ids = tmp_path / 'real.tileids'
    ids.write_text('847\n')
    ds = MTLCCDataset(
        data_root=folder, ann_file=str(ids), data_prefix=dict(img_path=''),
        pipeline=pipeline)
    assert [ds.get_data_info(i)['sample_id'] for i in range(len(ds))] == [
        '847_0', '847_1', '847_2', '847_3'
    ]
    whole = read_mtlcc_tile(osp.join(folder, '847.tfrecord.gz'))
    out = ds[3]
    x = out['inputs']
    assert x.shape == (16, 14, 24, 24)
    assert torch.allclose(x[:10, :13] * 1e4,
                          torch.from_numpy(whole['img'][:, :, 24:, 24:]),
                          rtol=1e-6, atol=1e-3)
    assert x[:10, 13, 0, 0].tolist() == whole['doy'].tolist()
    assert (x[10:] == 0).all()  # padded frames: zeros, day of year 0
    seg = out['data_samples'].gt_sem_seg.data[0].numpy()
    assert np.array_equal(seg, whole['labels'][24:, 24:])


def test_dataset_splits_windows_and_pipeline(mtlcc24, pipeline, tmp_path):
    ds = MTLCCDataset(
        data_root=mtlcc24, ann_file=TILEIDS + 'train_fold0.tileids',
        pipeline=pipeline)
    assert len(ds) == 2  # tiles 0 and 3 of 6; one 24 x 24 window each
    assert ds.get_data_info(1)['sample_id'] == '1003_0'
    assert ds.metainfo['classes'][0] == 'Background/unknown'
    assert len(ds.metainfo['classes']) == len(ds.metainfo['palette']) == 18
    out = ds[0]
    x, s = out['inputs'], out['data_samples']
    t = s.num_frames
    assert x.shape == (16, 14, 24, 24) and 5 <= t <= 8
    doy = x[:, -1, 0, 0]
    assert (doy[:t] > 0).all() and (doy[t:] == 0).all()
    assert (x[:, -1] == doy[:, None, None]).all()
    seg = s.gt_sem_seg.data[0].numpy()
    present = [c for c in range(1, 18) if (seg == c).sum() > 0.01 * seg.size]
    assert s.gt_cls_label.shape == (17, )
    assert np.flatnonzero(s.gt_cls_label.numpy()).tolist() == [
        c - 1 for c in present
    ]
    all_tiles = MTLCCDataset(data_root=mtlcc24, pipeline=[],
                             data_prefix=dict(img_path='datasets/full/240/'
                                              'data17'))
    assert len(all_tiles) == 6
    ignore = MTLCCDataset(
        data_root=mtlcc24, ann_file=TILEIDS + 'eval.tileids',
        unknown_as='ignore', pipeline=pipeline)
    assert 255 in ignore[0]['data_samples'].gt_sem_seg.data
    # 48 x 48 tiles -> 4 windows, cut after the 20/60 m upsampling
    root48 = make_fake_mtlcc(str(tmp_path / 'm48'), num_tiles=1, size=48,
                             padded_len=10, seed=3)
    ds48 = MTLCCDataset(
        data_root=root48, data_prefix=dict(img_path='datasets/full/480/'
                                           'data17'), pipeline=[])
    assert len(ds48) == 4
    info = ds48.get_data_info(2)
    assert info['window'] == (24, 0, 24, 24)
    whole = read_mtlcc_tile(info['img_path'])
    part = read_mtlcc_tile(info['img_path'], window=info['window'])
    assert np.array_equal(part['img'], whole['img'][:, :, 24:, :24])


def test_dataset_errors(mtlcc24, tmp_path):
    with pytest.raises(SITSDataError, match='nope.tileids: tile-id file not '
                       'found'):
        MTLCCDataset(data_root=mtlcc24, ann_file='nope.tileids',
                     pipeline=[])
    ids = tmp_path / 'x.tileids'
    ids.write_text('1000\n999\n')
    with pytest.raises(SITSDataError, match=r'x.tileids:2: listed tile '
                       r'.*999.tfrecord.gz does not exist'):
        MTLCCDataset(data_root=mtlcc24, ann_file=str(ids), pipeline=[])
    with pytest.raises(SITSDataError, match='no \\*.tfrecord.gz tiles'):
        MTLCCDataset(data_root=str(tmp_path), data_prefix=dict(img_path=''),
                     pipeline=[])
    with pytest.raises(SITSDataError, match='tile folder not found'):
        MTLCCDataset(data_root=str(tmp_path), pipeline=[])


def _batch(mtlcc24, pipeline, n=2) -> dict:
    """``n`` samples holding at least one crop class."""
    ds = MTLCCDataset(data_root=mtlcc24, pipeline=pipeline)
    samples = [ds[i] for i in range(len(ds))]
    samples = [s for s in samples if s['data_samples'].gt_cls_label.any()]
    return pseudo_collate(samples[:n])


def test_tiny_tsvit_loss_and_predict(mtlcc24, pipeline):
    cfg = tiny_segmentor_cfg(in_channels=13, num_tokens=18)
    cfg['decode_head']['num_classes'] = 18
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    data = model.data_preprocessor(_batch(mtlcc24, pipeline), True)
    losses = model(**data, mode='loss')
    assert torch.isfinite(losses['decode.loss_ce'])
    model.eval()
    with torch.no_grad():
        preds = model.predict(data['inputs'], data['data_samples'])
    assert preds[0].seg_logits.data.shape == (18, 24, 24)
    assert preds[0].pred_sem_seg.data.max() < 18



def test_tiny_exact_stage1_losses(mtlcc24, pipeline, repo_root_module):
    cfg = copy.deepcopy(
        Config.fromfile(
            osp.join(repo_root_module,
                     'configs/_base_/models/exact_tsvit.py')).model)
    cfg.backbone.update(
        in_channels=13, num_tokens=17, embed_dims=16, temporal_depth=1,
        spatial_depth=1, num_heads=2, head_dims=8, ffn_dims=32)
    cfg.decode_head.update(in_channels=16, num_classes=18)
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    data = model.data_preprocessor(_batch(mtlcc24, pipeline), True)
    model.decode_head.set_train_step(4000)  # prototype learning is on
    losses = model(**data, mode='loss')
    assert set(losses) == {
        'decode.loss_cls', 'decode.loss_aux', 'decode.loss_tap',
        'decode.loss_cbl', 'decode.proto_norm_fg', 'decode.proto_norm_bg',
        'decode.proto_clamp'
    }
    assert all(torch.isfinite(v) for v in losses.values())
    assert losses['decode.loss_cbl'] > 0 and losses['decode.loss_tap'] > 0
