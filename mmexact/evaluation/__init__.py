# Copyright (c) mmexact contributors. All rights reserved.
from .sits_iou_metric import SITSIoUMetric
from .threshold_sweep import ThresholdSweep, cams_to_pseudo_labels

__all__ = ['SITSIoUMetric', 'ThresholdSweep', 'cams_to_pseudo_labels']
