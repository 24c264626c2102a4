# Copyright (c) mmexact contributors. All rights reserved.
from .sits_iou_metric import SITSIoUMetric

__all__ = ['SITSIoUMetric']
