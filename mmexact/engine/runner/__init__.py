# Copyright (c) mmexact contributors. All rights reserved.
from .iter_based_epoch_train_loop import IterBasedEpochTrainLoop

__all__ = ['IterBasedEpochTrainLoop']
