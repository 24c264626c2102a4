# Copyright (c) mmexact contributors. All rights reserved.
"""The real PASTIS24 windows load, normalise, pack and run through TSViT."""
import glob
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.dataset import Compose

from mmexact.datasets.readers import read_pastis24_window
from mmexact.testing import sits_pipeline, tiny_segmentor_cfg
from mmseg.registry import MODELS

PIPELINE = sits_pipeline(60)


def _info(path: str, **kwargs) -> dict:
    """The data info PASTIS24Dataset gives a window (void label 19)."""
    return dict(img_path=path, sits_format='pastis24', seg_fields=[],
                void_label=19, **kwargs)

# data-formats.md §6.1: image-level classes of each real window (>1 % rule)
EXPECTED = {
    '10110_15': [2, 9], '10136_15': [2, 5], '10203_3': [1, 2],
    '10218_10': [1, 3], '10316_17': [1, 3, 14], '20006_0': [2, 7],
    '30004_3': [3, 10], '30010_5': [1, 3, 18], '30084_10': [1, 3],
    '40123_18': [2, 3, 4, 5], '40136_9': [1, 2, 4, 6], '40272_4': [1, 3]
}


@pytest.fixture(scope='module')
def windows(real_data):
    root = real_data('pastis24-crop_segmentation', 'pickle24x24')
    return sorted(glob.glob(osp.join(root, '*.pickle')))


def test_real_windows_load_and_labels(windows):
    assert len(windows) == 12
    pipe = Compose(PIPELINE)
    for path in windows:
        sid = osp.splitext(osp.basename(path))[0]
        out = pipe(_info(path, sample_id=sid))
        s = out['data_samples']
        cls = (np.flatnonzero(s.gt_cls_label.numpy()) + 1).tolist()
        assert cls == EXPECTED[sid], sid
        assert out['inputs'].shape == (60, 11, 24, 24)
        assert torch.isfinite(out['inputs']).all()


def test_real_window_cut_and_void(windows):
    path = [w for w in windows if w.endswith('20006_0.pickle')][0]
    raw = read_pastis24_window(path)
    assert raw['img'].shape[0] == 61 and raw['doy'][-1] == 365
    assert (raw['img'][18] == -10000).all()  # no-data frame
    assert (raw['labels'] == 19).sum() == 15
    out = Compose(PIPELINE)(_info(path))
    doy = out['inputs'][:, -1, 0, 0]
    assert doy[-1] == raw['doy'][59] and 365 not in doy.tolist()
    assert (out['data_samples'].gt_sem_seg.data == 255).sum() == 15


def test_real_windows_through_model(windows):
    pipe = Compose(PIPELINE)
    batch = [pipe(_info(p)) for p in windows[:4]]
    model = MODELS.build(tiny_segmentor_cfg())
    data = model.data_preprocessor(
        dict(inputs=[b['inputs'] for b in batch],
             data_samples=[b['data_samples'] for b in batch]), True)
    losses = model(**data, mode='loss')
    assert torch.isfinite(losses['decode.loss_ce'])
    model.eval()
    with torch.no_grad():
        preds = model.test_step(
            dict(inputs=[b['inputs'] for b in batch],
                 data_samples=[b['data_samples'] for b in batch]))
    assert preds[0].pred_sem_seg.data.shape == (1, 24, 24)
