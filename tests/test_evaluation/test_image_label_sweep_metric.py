# Copyright (c) mmexact contributors. All rights reserved.
"""ImageLabelSweepMetric: presence F1 computed by hand, Exact's strict
presence rule, lowest theta on ties, padding dropped by mmengine's
collection, the 'none' gating of the CAM head; ThresholdSweepMetric with
windows without pixel truth."""
import json
import math

import pytest
import torch
from mmengine.evaluator import Evaluator
from mmengine.structures import PixelData

from mmexact.evaluation import (ImageLabelSweepMetric, ThresholdSweepMetric,
                                presence_depth)
from mmseg.structures import SegDataSample


def _sample(top, labels, num_fg=3, theta=0.35, gt=None):
    """A window of 1 x len(top) pixels: pixel i has its highest CAM
    ``top[i] = (class, value)``, the other classes 0."""
    cams = torch.zeros(num_fg, 1, len(top))
    for i, (c, v) in enumerate(top):
        cams[c, 0, i] = v
    sample = SegDataSample()
    sample.seg_logits = PixelData(
        data=torch.cat([torch.full_like(cams[:1], theta), cams]))
    sample.set_field(torch.tensor(labels, dtype=torch.float32),
                     'gt_cls_label')
    if gt is not None:
        sample.gt_sem_seg = PixelData(data=torch.tensor([gt]))
    return sample.to_dict()


# three windows of 6 pixels, K = 3; min_fraction 0.2: present iff > 1.2
# pixels, i.e. at least 2
A = _sample([(0, .9), (0, .8), (1, .6), (1, .4), (2, .35), (2, .2)],
            [1, 1, 0])
B = _sample([(2, .65), (2, .55), (0, .45), (0, .25), (1, .15), (1, .05)],
            [0, 0, 1])
C = _sample([(1, .32)] * 6, [0, 0, 0])  # no crop at all
# presence by hand (theta: A | B | C -> TP FP FN):
# 0.1 : {0,1,2} | {0,2} | {1} -> 3 3 0, F1 6/9
# 0.3 : {0,1}   | {2}   | {1} -> 3 1 0, F1 6/7
# 0.31: {0,1}   | {2}   | {1} -> 3 1 0, F1 6/7 (tie: 0.3 wins)
# 0.5 : {0}     | {2}   | {}  -> 2 0 1, F1 4/5
# 0.7 : {0}     | {}    | {}  -> 1 0 2, F1 2/4
THRESHOLDS = [0.7, 0.1, 0.31, 0.5, 0.3]  # sorted by the metric
F1 = [6 / 9, 6 / 7, 6 / 7, 4 / 5, 2 / 4]


def test_hand_computed_presence_f1(tmp_path):
    metric = ImageLabelSweepMetric(
        thresholds=THRESHOLDS, min_fraction=0.2, output_dir=str(tmp_path))
    metric.process({}, [A, B, C])
    res = metric.compute_metrics(metric.results)
    assert res == dict(F1=pytest.approx(100 * 6 / 7), precision=75.0,
                       recall=100.0, threshold=0.3)
    table = json.loads((tmp_path / 'image_label_sweep.json').read_text())
    assert table['thresholds'] == [0.1, 0.3, 0.31, 0.5, 0.7]
    assert table['f1'] == pytest.approx(F1, abs=1e-12)
    assert table['tp'] == [3, 3, 3, 2, 1]
    assert table['fp'] == [3, 1, 1, 0, 0]
    assert table['fn'] == [0, 0, 0, 1, 2]
    assert table['precision'] == pytest.approx(
        [1 / 2, 3 / 4, 3 / 4, 1, 1], abs=1e-12)
    assert table['recall'] == pytest.approx([1, 1, 1, 2 / 3, 1 / 3],
                                            abs=1e-12)
    assert table['best_index'] == 1
    # per class at theta 0.1: class 0 TP (A) + FP (B), class 1 TP (A) +
    # FP (C), class 2 FP (A) + TP (B)
    assert table['class_tp'][0] == [1, 1, 1]
    assert table['class_fp'][0] == [1, 1, 1]
    assert table['num_windows'] == 3 and table['num_labelled_pairs'] == 3


def test_padding_and_order_do_not_matter():
    """mmengine drops the sampler's padding (results truncated to the
    dataset size); integer counts: any order gives the same metrics."""
    ev = Evaluator(ImageLabelSweepMetric(thresholds=THRESHOLDS,
                                         min_fraction=0.2))
    ev.process([C, A, B, C])  # 3 windows + 1 padded
    padded = ev.evaluate(3)
    ev.process([B, C, A])
    assert ev.evaluate(3) == padded
    assert padded['threshold'] == 0.3


def test_presence_rule_is_strict():
    # Exact's rule on a 24 x 24 window: > 1 % = 5.76 pixels, so 6 pixels
    # make a class present and 5 do not; a pixel at theta is background
    cams = torch.zeros(2, 24, 24)
    cams[0].view(-1)[:6] = 0.8
    cams[1].view(-1)[100:105] = 0.9
    thr = torch.tensor([0.0, 0.5, 0.8], dtype=torch.float64)
    assert presence_depth(cams, thr).tolist() == [2, 0]
    assert presence_depth(cams, thr, min_fraction=0.005).tolist() == [2, 3]
    # strictly more: 2 of 10 pixels are not more than 20 %, 3 are
    cams = torch.zeros(1, 1, 10)
    cams[0, 0, :2] = 0.9
    assert presence_depth(cams, thr, min_fraction=0.2).tolist() == [0]
    cams[0, 0, 2] = 0.9
    assert presence_depth(cams, thr, min_fraction=0.2).tolist() == [3]


def test_undefined_and_errors(tmp_path):
    # no label and nothing present: F1 undefined at every theta, no pick
    empty = _sample([(0, 0.)] * 6, [0, 0, 0])
    metric = ImageLabelSweepMetric(thresholds=[0.1, 0.2],
                                   output_dir=str(tmp_path))
    metric.process({}, [empty])
    res = metric.compute_metrics(metric.results)
    assert math.isnan(res['threshold']) and math.isnan(res['F1'])
    table = json.loads((tmp_path / 'image_label_sweep.json').read_text())
    assert table['best_index'] is None
    no_labels = dict(A)
    no_labels.pop('gt_cls_label')
    with pytest.raises(KeyError, match='gt_cls_label'):
        metric.process({}, [no_labels])
    wrong = _sample([(0, .5)], [1, 0])
    with pytest.raises(ValueError, match='2 classes, the CAMs 3'):
        metric.process({}, [wrong])
    with pytest.raises(ValueError, match='min_fraction'):
        ImageLabelSweepMetric(min_fraction=1.)
    with pytest.raises(TypeError, match='unexpected'):
        ImageLabelSweepMetric(criterion='f1')


def test_cam_head_none_gating():
    from mmexact.models.decode_heads import SITSCAMHead
    head = SITSCAMHead(in_channels=8, num_classes=4, cam_gating='none')
    outputs = dict(cls_logits=torch.full((2, 3), -10.))
    assert head.gate_labels(outputs, None).tolist() == [[1.] * 3] * 2
    head.cam_gating = 'pred'
    assert head.gate_labels(outputs, None).sum() == 0
    with pytest.raises(ValueError, match="got 'off'"):
        SITSCAMHead(in_channels=8, cam_gating='off')


def test_pixel_sweep_windows_without_truth(tmp_path):
    """Windows whose truth is all 255 (parcels unknown) contribute
    nothing; no truth at all gives NaN metrics, not a crash, and says
    how to choose theta without pixel labels."""
    labelled = _sample([(0, .6), (1, .4)], [1, 1], num_fg=2, gt=[1, 2])
    unknown = _sample([(0, .9), (0, .9)], [1, 0], num_fg=2,
                      gt=[255, 255])
    metric = ThresholdSweepMetric(thresholds=[0.2, 0.5],
                                  output_dir=str(tmp_path))
    metric.process({}, [labelled, unknown])
    res = metric.compute_metrics(metric.results)
    # background has no pixel: its IoU 0 enters the plain mean
    assert res == dict(mIoU=pytest.approx(200 / 3), OA=100., threshold=0.2)
    table = json.loads((tmp_path / 'threshold_sweep.json').read_text())
    assert table['num_pixels'] == 2 and table['num_labelled_windows'] == 1
    assert table['num_windows'] == 2

    metric = ThresholdSweepMetric(thresholds=[0.2, 0.5],
                                  output_dir=str(tmp_path))
    metric.process({}, [unknown, unknown])
    res = metric.compute_metrics(metric.results)
    assert math.isnan(res['threshold']) and math.isnan(res['OA'])
    table = json.loads((tmp_path / 'threshold_sweep.json').read_text())
    assert table['num_pixels'] == 0 and table['num_labelled_windows'] == 0
