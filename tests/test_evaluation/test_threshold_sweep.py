# Copyright (c) mmexact contributors. All rights reserved.
import numpy as np
import pytest
import torch

from mmexact.evaluation import ThresholdSweep, cams_to_pseudo_labels
from mmexact.models.utils import (cams_to_seg_scores, minmax_normalize_cams,
                                  upsample_cams)

NUM_CLASSES = 19


def _random_windows(seed: int, num: int = 6, size: int = 8):
    """Random CAMs with ties (values on the threshold grid), absent classes
    and void pixels."""
    g = torch.Generator().manual_seed(seed)
    thr = torch.tensor(ThresholdSweep.arange(0., 0.6, 0.01),
                       dtype=torch.float32)
    grid = torch.cat([thr, torch.tensor([0.6, 0.75, 1.0])])
    windows = []
    for _ in range(num):
        present = torch.rand(NUM_CLASSES - 1, generator=g) < 0.3
        idx = torch.randint(len(grid), (NUM_CLASSES - 1, size, size),
                            generator=g)
        cams = grid[idx] * present[:, None, None]
        gt = torch.randint(NUM_CLASSES, (size, size), generator=g)
        gt[torch.rand(size, size, generator=g) < 0.15] = 255
        windows.append((cams, gt))
    # a window with no present class at all
    windows.append((torch.zeros(NUM_CLASSES - 1, size, size),
                    torch.randint(NUM_CLASSES, (size, size), generator=g)))
    return windows


def _naive(windows, thresholds):
    """Per-window, per-threshold argmax over the stacked [theta, cams]."""
    cms = np.zeros((len(thresholds), NUM_CLASSES, NUM_CLASSES), np.int64)
    for cams, gt in windows:
        valid = gt != 255
        for j, theta in enumerate(thresholds):
            scores = torch.cat([torch.full_like(cams[:1], theta), cams])
            label = scores.argmax(dim=0)
            idx = gt[valid] * NUM_CLASSES + label[valid]
            cms[j] += torch.bincount(
                idx, minlength=NUM_CLASSES**2).view(
                    NUM_CLASSES, NUM_CLASSES).numpy()
    return cms


def _naive_metrics(cm):
    cm = cm.astype(np.float64)
    tp = np.diag(cm)
    iou = tp / (cm.sum(0) + cm.sum(1) - tp + 1e-10)
    return iou, iou.mean(), tp.sum() / cm.sum()


@pytest.mark.parametrize('batch', [1, 3])
def test_vectorised_sweep_equals_naive_loop(batch):
    windows = _random_windows(seed=batch)
    sweep = ThresholdSweep()
    thresholds = sweep.thresholds.tolist()
    assert len(thresholds) == 60
    assert thresholds[0] == 0. and thresholds[-1] == 0.59
    for i in range(0, len(windows), batch):
        chunk = windows[i:i + batch]
        sweep.update(
            torch.stack([c for c, _ in chunk]),
            torch.stack([g for _, g in chunk])[:, None])  # (B, 1, H, W)
    res = sweep.compute()
    expected = _naive(windows, thresholds)
    assert torch.equal(res['confusion'], torch.from_numpy(expected))
    assert res['num_pixels'] == int(expected[0].sum())
    for j in range(len(thresholds)):
        iou, miou, oa = _naive_metrics(expected[j])
        np.testing.assert_allclose(res['iou'][j].numpy(), iou, atol=1e-12)
        assert abs(float(res['miou'][j]) - miou) < 1e-12
        assert abs(float(res['oa'][j]) - oa) < 1e-12
    # the grid values guarantee pixels exactly on some thresholds
    values = torch.stack([c.max(0)[0] for c, _ in windows])
    assert torch.isin(values, torch.tensor(thresholds,
                                           dtype=torch.float32)).any()


def test_pseudo_label_function_matches_argmax_and_sweep():
    windows = _random_windows(seed=7, num=3)
    cams = torch.stack([c for c, _ in windows])
    gt = torch.stack([g for _, g in windows])
    for theta in (0., 0.2, 0.35, 0.59):
        scores = cams_to_seg_scores(cams, theta, cams.shape[-2:])
        label = cams_to_pseudo_labels(cams, theta)
        assert torch.equal(label, scores.argmax(dim=1))
        sweep = ThresholdSweep([theta])
        sweep.update(cams, gt)
        valid = gt != 255
        cm = torch.bincount(gt[valid] * NUM_CLASSES + label[valid],
                            minlength=NUM_CLASSES**2)
        assert torch.equal(sweep.compute()['confusion'][0].flatten(), cm)


def test_hand_computed_two_by_two():
    # K = 2 foreground classes; labels: 0 background, 1, 2
    cams = torch.tensor([[[0.9, 0.3], [0.5, 0.0]],
                         [[0.2, 0.3], [0.6, 0.0]]])[None]
    gt = torch.tensor([[1, 0], [2, 255]])[None]
    sweep = ThresholdSweep([0.1, 0.4], num_classes=3)
    sweep.update(cams, gt)
    res = sweep.compute()
    # theta 0.1: labels [[1, 1], [2, 0]] -> gt 1 ok, gt 0 wrong, gt 2 ok
    # theta 0.4: labels [[1, 0], [2, 0]] -> all 3 valid pixels right
    assert res['confusion'][0].tolist() == [[0, 1, 0], [0, 1, 0], [0, 0, 1]]
    assert res['confusion'][1].tolist() == [[1, 0, 0], [0, 1, 0], [0, 0, 1]]
    assert res['num_pixels'] == 3
    np.testing.assert_allclose(res['iou'][0].numpy(), [0., 0.5, 1.],
                               atol=1e-9)
    assert float(res['miou'][0]) == pytest.approx(0.5)
    assert float(res['oa'][0]) == pytest.approx(2 / 3)
    assert float(res['miou'][1]) == pytest.approx(1.)
    assert float(res['oa'][1]) == pytest.approx(1.)


def test_plain_mean_vs_nanmean():
    # class 2 absent from prediction and ground truth: IoU 0 in the plain
    # (reference) mean, skipped by mmseg's nan-mean
    cams = torch.tensor([[[0.9, 0.0]], [[0.0, 0.0]]])[None]  # (1, 2, 1, 2)
    gt = torch.tensor([[1, 0]])[None]
    sweep = ThresholdSweep([0.5], num_classes=3)
    sweep.update(cams, gt)
    out = sweep.compute()
    assert out['iou'][0].tolist() == pytest.approx([1., 1., 0.])
    assert float(out['miou'][0]) == pytest.approx(2 / 3)
    assert float(out['miou_nan'][0]) == pytest.approx(1.)
    assert float(out['oa'][0]) == pytest.approx(1.)


def test_pseudo_label_values_only_present_classes():
    g = torch.Generator().manual_seed(0)
    labels = (torch.rand(4, 18, generator=g) < 0.25).float()
    labels[0] = 0  # an image without any class
    cams = minmax_normalize_cams(
        torch.randn(4, 18, 12, 12, generator=g), labels)
    up = upsample_cams(cams, (24, 24))
    for theta in (0., 0.35, 0.59):
        pseudo = cams_to_pseudo_labels(up, theta)
        assert pseudo.shape == (4, 24, 24) and pseudo.dtype == torch.int64
        for b in range(4):
            allowed = {0} | {c + 1 for c in labels[b].nonzero().flatten()
                             .tolist()}
            assert set(pseudo[b].unique().tolist()) <= allowed
        assert (pseudo[0] == 0).all()


def test_arange_thresholds_and_validation():
    assert ThresholdSweep.arange(0., 0.6, 0.01)[35] == 0.35
    assert len(ThresholdSweep.arange(0.1, 0.5, 0.1)) == 4
    sweep = ThresholdSweep([0.3, 0.1, 0.2])
    assert sweep.thresholds.tolist() == [0.1, 0.2, 0.3]
    with pytest.raises(ValueError):
        sweep.update(torch.rand(1, 5, 4, 4), torch.zeros(1, 4, 4))
    with pytest.raises(ValueError):
        sweep.update(torch.rand(1, 18, 4, 4), torch.zeros(1, 3, 4))
    with pytest.raises(ValueError):
        ThresholdSweep([])
    sweep.update(torch.rand(1, 18, 4, 4), torch.zeros(1, 4, 4))
    sweep.reset()
    assert sweep.compute()['num_pixels'] == 0
