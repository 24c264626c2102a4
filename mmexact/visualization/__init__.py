# Copyright (c) mmexact contributors. All rights reserved.
from .builder import build_sits_visualizer
from .sits_local_visualizer import SITSLocalVisualizer, require_display
from .sits_render import (colorize_labels, heatmap, hstack_panels, overlay,
                          pick_frame, rgb_composite)
from .temporal_profile import temporal_profile

__all__ = [
    'SITSLocalVisualizer', 'build_sits_visualizer', 'require_display',
    'rgb_composite', 'colorize_labels', 'overlay', 'heatmap', 'hstack_panels',
    'pick_frame', 'temporal_profile'
]
