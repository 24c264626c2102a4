# Copyright (c) mmexact contributors. All rights reserved.
from .cam_utils import (cams_to_seg_scores, minmax_normalize_cams,
                        upsample_cams)
from .sinkhorn import sinkhorn_knopp, sinkhorn_knopp_grouped

__all__ = [
    'sinkhorn_knopp', 'sinkhorn_knopp_grouped', 'minmax_normalize_cams',
    'cams_to_seg_scores', 'upsample_cams'
]
