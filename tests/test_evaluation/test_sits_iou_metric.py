# Copyright (c) mmexact contributors. All rights reserved.
import numpy as np
import pytest
import torch
from PIL import Image

from mmexact.datasets.pastis_meta import PASTIS_CLASSES
from mmexact.evaluation import SITSIoUMetric


def _sample(pred, gt, sid):
    return dict(
        pred_sem_seg=dict(data=torch.tensor(pred)[None]),
        gt_sem_seg=dict(data=torch.tensor(gt)[None]),
        img_path='S2_10000.npy', sample_id=sid)


def test_hand_computed_miou_and_names(tmp_path):
    metric = SITSIoUMetric(iou_metrics=['mIoU'], output_dir=str(tmp_path))
    metric.dataset_meta = dict(classes=PASTIS_CLASSES)
    # class 0: TP 1, FP 1, FN 0 -> 1/2 ; class 3: TP 1, FN 1 -> 1/2
    # the 255 pixel is ignored; classes absent everywhere are NaN-skipped
    pred = [[0, 0], [3, 5]]
    gt = [[0, 3], [3, 255]]
    metric.process({}, [_sample(pred, gt, '10000_0'),
                        _sample(pred, gt, '10000_1')])
    res = metric.compute_metrics(metric.results)
    assert res['mIoU'] == pytest.approx(50.0)
    assert res['aAcc'] == pytest.approx(100 * 2 / 3, abs=0.01)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ['10000_0.png', '10000_1.png']
    assert np.array(Image.open(tmp_path / '10000_1.png')).tolist() == pred
