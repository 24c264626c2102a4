# Copyright (c) mmexact contributors. All rights reserved.
from .sits_iou_metric import SITSIoUMetric
from .threshold_sweep import ThresholdSweep, cams_to_pseudo_labels
from .threshold_sweep_metric import ThresholdSweepMetric

__all__ = [
    'SITSIoUMetric', 'ThresholdSweep', 'ThresholdSweepMetric',
    'cams_to_pseudo_labels'
]
