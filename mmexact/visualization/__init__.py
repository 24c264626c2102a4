# Copyright (c) mmexact contributors. All rights reserved.
from .sits_render import (colorize_labels, heatmap, hstack_panels, overlay,
                          pick_frame, rgb_composite)

__all__ = ['rgb_composite', 'colorize_labels', 'overlay', 'heatmap',
           'hstack_panels', 'pick_frame']
