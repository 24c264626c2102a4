# Copyright (c) mmexact contributors. All rights reserved.
import pytest
from torch.utils.data import DataLoader

from mmexact.engine import IterBasedEpochTrainLoop


class _Runner:

    class visualizer:
        dataset_meta = None


def test_length_in_epochs():
    loader = DataLoader(list(range(10)), batch_size=4)  # 3 batches/epoch
    loop = IterBasedEpochTrainLoop(_Runner(), loader, max_epochs=5,
                                   val_interval=2)
    assert loop.max_iters == 15 and loop.max_epochs == 5
    assert loop.iters_per_epoch == 3
    loop._iter = 7
    assert loop.epoch == 2
    loop2 = IterBasedEpochTrainLoop(_Runner(), loader, max_iters=4)
    assert loop2.max_iters == 4
    with pytest.raises(ValueError, match='max_epochs, max_iters or both'):
        IterBasedEpochTrainLoop(_Runner(), loader)


def test_length_in_epochs_of_the_schedule():
    """``max_epochs`` is what schedulers without ``end`` last (the Runner's
    default): with ``max_iters`` only, the epochs the run touches; with
    both, the full schedule of a run cut short."""
    loader = DataLoader(list(range(10)), batch_size=4)  # 3 batches/epoch
    loop = IterBasedEpochTrainLoop(_Runner(), loader, max_iters=7)
    assert (loop.max_iters, loop.max_epochs) == (7, 3)  # ceil(7 / 3)
    loop = IterBasedEpochTrainLoop(_Runner(), loader, max_iters=6)
    assert (loop.max_iters, loop.max_epochs) == (6, 2)
    loop = IterBasedEpochTrainLoop(_Runner(), loader, max_epochs=8,
                                   max_iters=4)
    assert (loop.max_iters, loop.max_epochs) == (4, 8)
    loop = IterBasedEpochTrainLoop(_Runner(), loader, max_epochs=2,
                                   max_iters=100)  # the schedule ends first
    assert (loop.max_iters, loop.max_epochs) == (6, 2)
