# Copyright (c) mmexact contributors. All rights reserved.
import math
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.model import BaseModel
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

from mmexact.engine import WarmupCosineEpochLR

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


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


def test_warmup_ratio_is_a_fraction_of_the_schedule():
    # W = round(ratio * E): 1/8 of 8 epochs = 1, of 3 = 0, of 20 = 2
    for epochs, warmup in ((8, 1), (3, 0), (20, 2), (12, 2)):
        sched = WarmupCosineEpochLR(_optim(), warmup_ratio=1 / 8,
                                    warmup_start_lr=1e-6, begin=0,
                                    end=epochs)
        assert sched.warmup_epochs == warmup, epochs
    optim = _optim()
    sched = WarmupCosineEpochLR.build_iter_from_epoch(
        optim, warmup_ratio=0.25, warmup_start_lr=0., begin=0, end=8,
        epoch_length=3)  # 2 warm-up epochs of 3 iterations
    lrs = _epoch_lrs(sched, optim, 9)
    assert lrs[:3] == [0.] * 3
    assert lrs[3:6] == [pytest.approx(5e-4)] * 3
    # epoch 2: cosine from epoch 0, p = 2 / 8
    assert lrs[6] == pytest.approx(0.5e-3 * (1 + math.cos(math.pi / 4)))
    with pytest.raises(ValueError, match='not both'):
        WarmupCosineEpochLR(_optim(), warmup_epochs=1, warmup_ratio=0.1,
                            end=8)
    with pytest.raises(ValueError, match='warmup_ratio'):
        WarmupCosineEpochLR(_optim(), warmup_ratio=1.0, end=8)
    with pytest.raises(ValueError, match='finite `end`'):
        WarmupCosineEpochLR(_optim(), warmup_epochs=1)


class _Toy(BaseModel):

    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.ones(1))

    def forward(self, inputs, data_samples=None, mode='tensor'):
        return dict(loss=(self.w * inputs.float().mean())**2)


class _RecordLR(Hook):

    def __init__(self):
        self.lrs = []

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        self.lrs.append(runner.optim_wrapper.get_lr()['lr'][0])


def _train_lrs(tmp_path, cfg) -> list:
    """LR of every training iteration of a Runner built from ``cfg``'s
    schedule (optimiser, scheduler, loop), 4 samples x batch 2 a epoch."""
    init_default_scope('mmseg')
    record = _RecordLR()
    runner = Runner(
        model=_Toy(),
        work_dir=str(tmp_path),
        train_dataloader=dict(
            dataset=[dict(inputs=torch.ones(1)) for _ in range(4)],
            sampler=dict(type='DefaultSampler', shuffle=False),
            batch_size=2,
            collate_fn=dict(type='default_collate')),
        optim_wrapper=cfg.optim_wrapper,
        param_scheduler=cfg.param_scheduler,
        train_cfg=cfg.train_cfg,
        default_hooks=dict(checkpoint=None, logger=None),
        custom_hooks=[record],
        default_scope='mmseg')
    runner.train()
    return record.lrs


def test_max_epochs_alone_sets_the_schedule_length(tmp_path):
    """``--cfg-options train_cfg.max_epochs=10`` on the stage-1 schedule
    (20 epochs, 3 warm-up epochs from 5e-6, cosine to 5e-6 from epoch 0):
    the Runner gives the scheduler that has no ``end`` the loop's 10
    epochs, so epoch 5 of 10 is half-way down the cosine."""
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', '_base_', 'schedules',
                 'schedule_exact_20e.py'))
    assert 'end' not in cfg.param_scheduler[0]
    cfg.merge_from_dict({'train_cfg.max_epochs': 10})
    lrs = _train_lrs(tmp_path / 'a', cfg)
    assert len(lrs) == 10 * 2  # 2 iterations per epoch
    # epoch 1 (iterations 2, 3): warm-up 5e-6 + 1/3 (1e-3 - 5e-6)
    assert lrs[2] == lrs[3] == pytest.approx(3.3667e-4, rel=1e-4)
    # epoch 5 (iteration 10): 5e-6 + (1e-3 - 5e-6) / 2 (1 + cos(pi / 2))
    assert lrs[10] == pytest.approx(5.025e-4, rel=1e-9)
    # epoch 9, the last: p = 9 / 10 (epoch 18 of the 20-epoch schedule)
    assert lrs[18] == lrs[19] == pytest.approx(2.935e-5, rel=1e-3)
    # an explicit end is kept: epoch 5 of 20, 5e-6 + 4.975e-4 (1 + cos(pi/4))
    cfg.param_scheduler[0]['end'] = 20
    lrs = _train_lrs(tmp_path / 'b', cfg)
    assert lrs[10] == pytest.approx(8.5430e-4, rel=1e-4)
