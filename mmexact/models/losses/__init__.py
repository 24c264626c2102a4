# Copyright (c) mmexact contributors. All rights reserved.
from .clue_contrastive_loss import ClueContrastiveLoss

__all__ = ['ClueContrastiveLoss']
