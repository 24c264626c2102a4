# Copyright (c) mmexact contributors. All rights reserved.
"""Degraded and hostile inputs: clear errors or documented handling."""
import pickle

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import Compose

import mmexact.exact  # noqa: F401  (Exact's components)
from mmexact.datasets.transforms import DropNoDataFrames, LoadSITSSample
from mmexact.structures import SITSDataError
from mmexact.testing import (TINY_BACKBONE, sits_pipeline)
from mmseg.registry import MODELS

PIPE = sits_pipeline(8)


def _write(path, img=None, doy=None, labels=None):
    rng = np.random.default_rng(0)
    t = 5 if img is None else len(img)
    sample = dict(
        img=rng.integers(0, 3000, (t, 10, 24, 24)).astype(np.int16)
        if img is None else img,
        doy=np.arange(1, t + 1) * 30 if doy is None else np.asarray(doy),
        labels=np.zeros((24, 24), np.uint8) if labels is None else labels)
    with open(path, 'wb') as f:
        pickle.dump(sample, f)
    # the data info of a PASTIS24Dataset (void label 19)
    return dict(img_path=str(path), sits_format='pastis24', seg_fields=[],
                sample_id=path.stem, void_label=19)


def test_nan_and_inf_reflectances_are_named(tmp_path):
    img = np.ones((4, 10, 24, 24), np.float32)
    img[2, 3, 5, 5] = np.nan
    img[3, 0, 0, 0] = np.inf
    info = _write(tmp_path / 'nan.pickle', img=img)
    with pytest.raises(SITSDataError, match=r'nan.pickle: non-finite '
                       r'reflectances \(NaN/Inf\) in frame\(s\) \[2, 3\]'):
        LoadSITSSample()(info)


def test_nodata_frames_kept_by_default_or_dropped(tmp_path):
    img = np.full((5, 10, 24, 24), 1000, np.int16)
    img[1] = -10000  # a whole no-data frame
    img[3, :, :12] = -10000  # half of a frame
    info = _write(tmp_path / 'nd.pickle', img=img)
    out = Compose(PIPE)(dict(info))
    assert out['inputs'][:, -1, 0, 0].tolist()[:5] == [30, 60, 90, 120, 150]
    r = DropNoDataFrames()(LoadSITSSample()(dict(info)))
    assert r['doy'].tolist() == [30, 90, 120, 150]
    assert r['num_dropped_frames'] == 1
    r = DropNoDataFrames(min_fraction=0.5)(LoadSITSSample()(dict(info)))
    assert r['doy'].tolist() == [30, 90, 150]
    img[:] = -10000
    info = _write(tmp_path / 'empty.pickle', img=img)
    with pytest.raises(SITSDataError, match='empty: every frame is no-data'):
        DropNoDataFrames()(LoadSITSSample()(info))


def test_all_cloud_window_loads(tmp_path):
    img = np.full((6, 10, 24, 24), 9000, np.int16)  # bright everywhere
    out = Compose(PIPE)(_write(tmp_path / 'cloud.pickle', img=img))
    assert torch.isfinite(out['inputs']).all()


def test_duplicated_and_unordered_dates(tmp_path):
    img = np.zeros((4, 10, 24, 24), np.int16)
    img[:, 0] = np.arange(4)[:, None, None]  # original frame index
    info = _write(tmp_path / 'order.pickle', img=img, doy=[200, 17, 200, 5])
    r = LoadSITSSample()(info)
    assert r['doy'].tolist() == [5, 17, 200, 200]  # sorted, repeats kept
    assert r['img'][:, 0, 0, 0].tolist() == [3, 1, 0, 2]  # stable


def test_window_without_crop_class_trains(tmp_path):
    labels = np.zeros((24, 24), np.uint8)
    labels[:4] = 19  # background and void only
    out = Compose(PIPE)(_write(tmp_path / 'bg.pickle', labels=labels))
    s = out['data_samples']
    assert s.gt_cls_label.sum() == 0
    cfg = Config.fromfile('configs/_base_/models/exact_tsvit.py')
    cfg.model.backbone.update(TINY_BACKBONE)
    cfg.model.decode_head.in_channels = 16
    model = MODELS.build(cfg.model)
    model.decode_head.set_train_step(5000)
    data = model.data_preprocessor(
        dict(inputs=[out['inputs']] * 2, data_samples=[s, s]), True)
    losses = model(**data, mode='loss')
    assert all(torch.isfinite(v) for v in losses.values())
    assert losses['decode.loss_tap'] == 0 and losses['decode.loss_cbl'] > 0


@pytest.mark.parametrize('masked', [True, False])
def test_max_seq_len_cut_and_pad(tmp_path, masked):
    """Longer than max_seq_len: the first frames are kept; shorter: padded.
    With masking the padded length does not matter, without it (reference)
    it does."""
    info = _write(tmp_path / 'long.pickle',
                  img=np.random.default_rng(1).integers(
                      0, 3000, (12, 10, 24, 24)).astype(np.int16),
                  doy=np.arange(1, 13) * 20)
    cut = Compose(PIPE)(dict(info))['inputs']
    assert cut.shape[0] == 8 and cut[:, -1, 0, 0].tolist() == [
        20, 40, 60, 80, 100, 120, 140, 160
    ]
    short = _write(tmp_path / 'short.pickle')
    pad8 = Compose(PIPE)(dict(short))['inputs']
    pipe12 = [dict(p) for p in PIPE]
    pipe12[2] = dict(type='PadOrCutSequence', max_seq_len=12)
    pad12 = Compose(pipe12)(dict(short))['inputs']
    assert pad12[5:, -1].abs().sum() == 0  # padded frames: doy 0
    from mmexact.testing import tiny_tsvit_cfg
    torch.manual_seed(0)
    net = MODELS.build(tiny_tsvit_cfg(mask_padded_frames=masked)).eval()
    with torch.no_grad():
        a, b = net(pad8[None])[0], net(pad12[None])[0]
    assert torch.allclose(a, b, atol=1e-5) == masked
