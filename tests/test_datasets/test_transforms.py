# Copyright (c) mmexact contributors. All rights reserved.
import json

import numpy as np
import pytest
import torch

from mmexact.datasets.pastis_meta import PASTIS_FOLD1_MEAN, PASTIS_FOLD1_STD
from mmexact.datasets.transforms import (AppendDayOfYear, NormalizeSITS,
                                         PackSITSInputs, PadOrCutSequence,
                                         SITSRandomFlip, SITSRandomRot90)
from mmseg.registry import TRANSFORMS


def _results(t=4, h=4, w=4):
    img = np.arange(t * 10 * h * w, dtype=np.float32).reshape(t, 10, h, w)
    seg = np.arange(h * w, dtype=np.uint8).reshape(h, w)
    return dict(
        img=img,
        doy=np.arange(1, t + 1) * 10,
        gt_seg_map=seg,
        seg_fields=['gt_seg_map'],
        gt_cls_label=np.eye(18, dtype=np.uint8)[3],
        img_path='x.pickle')


def test_normalize_needs_statistics():
    with pytest.raises(ValueError, match='NormalizeSITS needs the statistics'
                       ' of the data: give mean and std .* or norm_file'):
        NormalizeSITS()
    with pytest.raises(ValueError, match='give mean and std, or norm_file, '
                       'not both'):
        NormalizeSITS(mean=[0.] * 10, std=[1.] * 10, norm_file='x.json')
    with pytest.raises(ValueError, match='give both mean and std'):
        NormalizeSITS(mean=[0.] * 10)


def test_normalize_with_pastis_fold1():
    t = NormalizeSITS(mean=PASTIS_FOLD1_MEAN, std=PASTIS_FOLD1_STD)
    r = _results()
    r['img'][:] = 1165.9398193359375 + 1942.6156005859375  # band 0: +1 std
    out = t(r)['img']
    assert out.dtype == np.float32
    np.testing.assert_allclose(out[:, 0], 1.0, rtol=1e-6)
    assert 'NormalizeSITS' in repr(t)


def test_normalize_from_file_averages_folds(tmp_path):
    stats = {
        'Fold_1': dict(mean=[0.] * 10, std=[1.] * 10),
        'Fold_2': dict(mean=[2.] * 10, std=[3.] * 10)
    }
    path = tmp_path / 'NORM_S2_patch.json'
    path.write_text(json.dumps(stats))
    t = NormalizeSITS(norm_file=str(path), folds=(1, 2))
    assert t.mean.tolist() == [1.] * 10 and t.std.tolist() == [2.] * 10
    r = _results(t=1, h=1, w=1)
    r['img'][:] = 5.
    assert t(r)['img'].ravel().tolist() == [2.] * 10
    lazy = NormalizeSITS(norm_file=str(path), folds=(3, ))  # read lazily
    assert 'norm_file=' in repr(lazy)
    with pytest.raises(ValueError, match=r'NORM_S2_patch.json: no "mean"/'
                       r'"std" for Fold_3'):
        lazy(_results())


def test_pad_and_cut():
    r = PadOrCutSequence(max_seq_len=6)(_results(t=4))
    assert r['img'].shape == (6, 10, 4, 4)
    assert r['doy'].tolist() == [10, 20, 30, 40, 0, 0]
    assert (r['img'][4:] == 0).all()
    r = PadOrCutSequence(max_seq_len=2)(_results(t=4))
    assert r['doy'].tolist() == [10, 20]
    assert r['img'][1, 0, 0, 0] == 160  # frame 1 kept
    np.random.seed(0)
    r = PadOrCutSequence(max_seq_len=3, random_subsample=True)(
        _results(t=10))
    assert len(r['doy']) == 3 and np.all(np.diff(r['doy']) > 0)
    assert (r['img'][:, 0, 0, 0] == (r['doy'] / 10 - 1) * 160).all()


def test_append_day_of_year():
    r = AppendDayOfYear()(PadOrCutSequence(5)(_results(t=4)))
    assert r['img'].shape == (5, 11, 4, 4)
    assert r['img'][:, -1, 2, 3].tolist() == [10, 20, 30, 40, 0]
    assert r['img'][0, 0, 0, 1] == 1  # bands unchanged


def test_flip_and_rotate_keep_frames_and_labels_aligned():
    r = _results()
    # encode the pixel index in every frame and the label map
    r['img'][:] = np.arange(16, dtype=np.float32).reshape(4, 4)
    r = SITSRandomFlip(prob=1.0)(r)
    assert r['sits_flip'] == ['horizontal', 'vertical']
    assert (r['img'][:, :] == r['gt_seg_map']).all()
    assert r['gt_seg_map'][0, 0] == 15
    np.random.seed(3)
    r = SITSRandomRot90(prob=1.0)(r)
    assert r['rot90_k'] in (1, 2, 3)
    assert (r['img'][:, :] == r['gt_seg_map']).all()
    r2 = SITSRandomFlip(prob=0.0)(_results())
    assert r2['sits_flip'] == [] and r2['gt_seg_map'][0, 0] == 0


def test_rot90_value():
    r = _results(h=2, w=2)
    r['img'][:] = np.array([[1, 2], [3, 4]], np.float32)
    r['gt_seg_map'] = np.array([[1, 2], [3, 4]], np.uint8)
    np.random.seed(0)
    while True:
        out = SITSRandomRot90(prob=1.0)(dict(r))
        if out['rot90_k'] == 1:
            break
    assert out['gt_seg_map'].tolist() == [[2, 4], [1, 3]]
    assert out['img'][2, 5].tolist() == [[2, 4], [1, 3]]


def test_pack_sits_inputs():
    r = AppendDayOfYear()(_results())
    r['sample_id'] = '10000_3'
    packed = PackSITSInputs()(r)
    x, s = packed['inputs'], packed['data_samples']
    assert x.dtype == torch.float32 and x.shape == (4, 11, 4, 4)
    assert s.gt_sem_seg.data.shape == (1, 4, 4)
    assert s.gt_sem_seg.data.dtype == torch.int64
    assert s.gt_cls_label.tolist() == np.eye(18)[3].tolist()
    assert s.metainfo['sample_id'] == '10000_3'
    with pytest.raises(ValueError, match='x.pickle: PackSITSInputs needs'):
        PackSITSInputs()(_results() | dict(img=np.zeros((4, 4))))


def test_all_transforms_registered():
    for name in ('LoadSITSSample', 'NormalizeSITS', 'PadOrCutSequence',
                 'AppendDayOfYear', 'SITSRandomFlip', 'SITSRandomRot90',
                 'PackSITSInputs', 'GenerateImageLabels'):
        assert TRANSFORMS.get(name) is not None, name
