# Copyright (c) mmexact contributors. All rights reserved.
from .sits_visualization_hook import SITSVisualizationHook

__all__ = ['SITSVisualizationHook']
