# Copyright (c) mmexact contributors. All rights reserved.
from .autocast_test_loop import AutocastTestLoop
from .iter_based_epoch_train_loop import IterBasedEpochTrainLoop

__all__ = ['AutocastTestLoop', 'IterBasedEpochTrainLoop']
