# Copyright (c) mmexact contributors. All rights reserved.
from .clue_contrastive_loss import ClueContrastiveLoss
from .refinement_consistency_loss import RefinementConsistencyLoss

__all__ = ['ClueContrastiveLoss', 'RefinementConsistencyLoss']
