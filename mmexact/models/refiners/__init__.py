# Copyright (c) mmexact contributors. All rights reserved.
from .temporal_affinity_refiner import TemporalAffinityRefiner

__all__ = ['TemporalAffinityRefiner']
