# Copyright (c) mmexact contributors. All rights reserved.
"""ThresholdSweepMetric: hand-computed sweep, padding dropped by mmengine's
collection, clear errors; AutocastTestLoop runs the network in its dtype."""
import json
from types import SimpleNamespace

import pytest
import torch
from mmengine.evaluator import Evaluator
from mmengine.structures import PixelData

from mmexact.engine.runner import AutocastTestLoop
from mmexact.evaluation import ThresholdSweepMetric
from mmseg.structures import SegDataSample


def _sample(cams, gt, theta=0.35):
    """A CAM segmentor's prediction: [theta, cams] and the ground truth."""
    cams = torch.tensor(cams, dtype=torch.float32)
    bg = torch.full_like(cams[:1], theta)
    sample = SegDataSample()
    sample.seg_logits = PixelData(data=torch.cat([bg, cams]))
    sample.gt_sem_seg = PixelData(data=torch.tensor([gt]))
    return sample.to_dict()


# two windows of 1 x 2 pixels, K = 2 classes (C = 3 with background)
A = _sample([[[0.6, 0.3]], [[0.1, 0.4]]], [[1, 2]])
B = _sample([[[0.1, 0.9]], [[0.1, 0.0]]], [[0, 255]])  # 2nd pixel ignored


def test_hand_computed_sweep(tmp_path):
    metric = ThresholdSweepMetric(thresholds=[0.5, 0.2],
                                  output_dir=str(tmp_path))
    metric.process({}, [A, B])
    res = metric.compute_metrics(metric.results)
    # theta 0.2: every valid pixel right; theta 0.5: A's 2nd pixel (0.4)
    # falls to the background
    assert res == dict(mIoU=pytest.approx(100.0, abs=1e-6), OA=100.0,
                       threshold=0.2)
    table = json.loads((tmp_path / 'threshold_sweep.json').read_text())
    assert table['thresholds'] == [0.2, 0.5]
    assert table['num_pixels'] == 3 and table['num_windows'] == 2
    assert table['oa'] == pytest.approx([1.0, 2 / 3], abs=1e-12)
    # theta 0.5: background TP 1 / (GT 1 + pred 2 - 1); class 1 exact;
    # class 2 never predicted
    assert table['iou'][1] == pytest.approx([0.5, 1.0, 0.0], abs=1e-9)
    assert table['miou'][1] == pytest.approx(0.5, abs=1e-9)
    assert table['miou_nan'][1] == pytest.approx(0.5, abs=1e-9)


def test_criterion_miou_and_invalid():
    # one window, two thresholds; OA and mIoU both pick the lower one:
    # pixels (cam, gt): (0.3 class 1, gt 1) x3, (0.3 class 1, gt 0) x1
    s = _sample([[[0.3, 0.3, 0.3, 0.3]], [[0.0, 0.0, 0.0, 0.0]]],
                [[1, 1, 1, 0]])
    low = ThresholdSweepMetric(thresholds=[0.1, 0.4], criterion='oa')
    low.process({}, [s])
    res = low.compute_metrics(low.results)
    assert res['threshold'] == 0.1 and res['OA'] == 75.0  # 0.4: OA 1/4
    # mIoU: at 0.1 (bg 0, class 1 3/4, class 2 0) = 1/4; at 0.4 (bg 1/4,
    # 0, 0) = 1/12
    high = ThresholdSweepMetric(thresholds=[0.1, 0.4], criterion='miou')
    high.process({}, [s])
    res = high.compute_metrics(high.results)
    assert res['threshold'] == 0.1
    assert res['mIoU'] == pytest.approx(100 / 4, abs=1e-6)
    with pytest.raises(ValueError, match='criterion'):
        ThresholdSweepMetric(criterion='f1')
    # a CAM config's IoUMetric arguments are accepted, others are not
    ThresholdSweepMetric(iou_metrics=['mIoU'])
    with pytest.raises(TypeError, match=r"unexpected arguments \['tresholds'"):
        ThresholdSweepMetric(tresholds=[0.1])


def test_padding_dropped_by_the_evaluator():
    """mmengine truncates the collected results to the dataset size (the
    DefaultSampler's padding): one result per window, so a padded
    duplicate is not counted."""
    ev = Evaluator(ThresholdSweepMetric(thresholds=[0.5]))
    ev.process([A, B, A])  # 2 windows + 1 padded
    # theta 0.5: A 1 of 2 right, B 1 of 1
    assert ev.evaluate(2)['OA'] == pytest.approx(100 * 2 / 3)
    ev.process([A, B, A])
    assert ev.evaluate(3)['OA'] == pytest.approx(100 * 3 / 5)


def test_clear_errors():
    metric = ThresholdSweepMetric()
    bad = _sample([[[0.6, 0.3]]], [[1, 0]])
    bad['seg_logits']['data'][0, 0, 0] = 0.9  # not a constant background
    with pytest.raises(ValueError, match='constant background'):
        metric.process({}, [bad])
    no_gt = dict(A)
    no_gt.pop('gt_sem_seg')
    with pytest.raises(KeyError, match='gt_sem_seg'):
        metric.process({}, [no_gt])


def test_autocast_test_loop_dtype():
    seen = []

    class Net(torch.nn.Module):

        def __init__(self):
            super().__init__()
            self.w = torch.nn.Linear(2, 2)

        def test_step(self, batch):
            seen.append((torch.is_autocast_enabled('cpu'),
                         torch.get_autocast_dtype('cpu'),
                         self.w(batch).dtype))
            return []

    loop = AutocastTestLoop.__new__(AutocastTestLoop)
    loop._runner = SimpleNamespace(model=Net(),
                                   call_hook=lambda *a, **k: None)
    loop.evaluator = SimpleNamespace(process=lambda **k: None)
    loop.dtype = torch.bfloat16
    loop.run_iter(0, torch.ones(1, 2))
    assert seen == [(True, torch.bfloat16, torch.bfloat16)]
    with pytest.raises(ValueError, match='dtype must be one of'):
        AutocastTestLoop(None, None, None, dtype='int8')
