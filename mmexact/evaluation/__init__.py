# Copyright (c) mmexact contributors. All rights reserved.
from .image_label_sweep_metric import (ImageLabelSweepMetric, presence_counts,
                                       presence_depth)
from .sits_iou_metric import SITSIoUMetric
from .threshold_sweep import ThresholdSweep, cams_to_pseudo_labels
from .threshold_sweep_metric import ThresholdSweepMetric

__all__ = [
    'ImageLabelSweepMetric', 'SITSIoUMetric', 'ThresholdSweep',
    'ThresholdSweepMetric', 'cams_to_pseudo_labels', 'presence_counts',
    'presence_depth'
]
