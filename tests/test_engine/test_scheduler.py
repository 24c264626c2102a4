# Copyright (c) mmexact contributors. All rights reserved.
import pytest
import torch

from mmexact.engine import WarmupCosineEpochLR


def _optim(lr=1e-3):
    return torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=lr)


def _epoch_lrs(sched, optim, epochs):
    lrs = []
    for _ in range(epochs):
        lrs.append(optim.param_groups[0]['lr'])
        optim.step()
        sched.step()
    return lrs


def test_classification_schedule_matches_reference():
    """exact-method.md §12: per-epoch LR of the classification stage."""
    optim = _optim()
    sched = WarmupCosineEpochLR(optim, warmup_epochs=3, warmup_start_lr=5e-6,
                                eta_min=5e-6, begin=0, end=20)
    lrs = _epoch_lrs(sched, optim, 20)
    expected = {0: 5.0e-6, 1: 3.37e-4, 2: 6.68e-4, 3: 9.46e-4, 4: 9.05e-4,
                5: 8.54e-4, 17: 5.92e-5, 18: 2.93e-5, 19: 1.11e-5}
    for e, v in expected.items():
        assert lrs[e] == pytest.approx(v, rel=5e-3), e


def test_segmentation_schedule_matches_reference():
    optim = _optim()
    sched = WarmupCosineEpochLR(optim, warmup_epochs=10,
                                warmup_start_lr=1e-8, eta_min=5e-6,
                                begin=0, end=100)
    lrs = _epoch_lrs(sched, optim, 100)
    expected = {0: 1e-8, 1: 1.0e-4, 9: 9.0e-4, 10: 9.76e-4, 50: 5.03e-4,
                99: 5.25e-6}
    for e, v in expected.items():
        assert lrs[e] == pytest.approx(v, rel=5e-3), e


def test_iteration_based_is_piecewise_constant():
    optim = _optim()
    sched = WarmupCosineEpochLR.build_iter_from_epoch(
        optim, warmup_epochs=3, warmup_start_lr=5e-6, eta_min=5e-6,
        begin=0, end=20, epoch_length=4)
    lrs = _epoch_lrs(sched, optim, 12)
    assert lrs[0:4] == [pytest.approx(5e-6)] * 4
    assert lrs[4:8] == [pytest.approx(3.3667e-4, rel=1e-3)] * 4
    assert lrs[8] == pytest.approx(6.68e-4, rel=1e-3)


def test_cosine_from_warmup_end_variant():
    optim = _optim()
    sched = WarmupCosineEpochLR(optim, warmup_epochs=2, warmup_start_lr=0.,
                                eta_min=0., cosine_from_warmup_end=True,
                                begin=0, end=6)
    lrs = _epoch_lrs(sched, optim, 6)
    assert lrs[2] == pytest.approx(1e-3)  # cosine starts at its peak
    assert lrs[4] == pytest.approx(5e-4)
