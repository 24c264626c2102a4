# Copyright (c) mmexact contributors. All rights reserved.
from .pamr import PAMR
from .temporal_affinity_refiner import TemporalAffinityRefiner

__all__ = ['TemporalAffinityRefiner', 'PAMR']
