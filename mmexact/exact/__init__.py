# Copyright (c) mmexact contributors. All rights reserved.
"""Exact (CVPR 2025): the method-specific components.

Everything else in :mod:`mmexact` is the generic SITS core (data,
backbones, preprocessor, vanilla CAM head, refiners, segmentors, metrics,
inference) and imports nothing from here. Exact adds the class-wise
foreground/background prototypes, the clue-based CAM head with its
temporal-to-class attention, its two losses and the converter of the
released checkpoints.
"""
from .cb_cam_head import CBCAMHead
from .clue_contrastive_loss import ClueContrastiveLoss
from .exact_class_prototypes import ExactClassPrototypes
from .exact_reference import (DATE_COLUMNS, REF_DATE_COLUMNS,
                              convert_exact_reference_checkpoint,
                              date_column_map, exact_reference_to_mmexact,
                              load_exact_reference_state_dict,
                              mmexact_to_exact_reference, reference_date_index,
                              reference_key_pairs, reference_taap_kernel)
from .refinement_consistency_loss import RefinementConsistencyLoss

__all__ = [
    'CBCAMHead', 'ClueContrastiveLoss', 'ExactClassPrototypes',
    'RefinementConsistencyLoss', 'REF_DATE_COLUMNS', 'DATE_COLUMNS',
    'reference_date_index', 'date_column_map', 'reference_taap_kernel',
    'reference_key_pairs', 'exact_reference_to_mmexact',
    'mmexact_to_exact_reference', 'convert_exact_reference_checkpoint',
    'load_exact_reference_state_dict'
]
