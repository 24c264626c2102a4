# Copyright (c) mmexact contributors. All rights reserved.
from .warmup_cosine_epoch_lr import WarmupCosineEpochLR

__all__ = ['WarmupCosineEpochLR']
