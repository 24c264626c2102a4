# Copyright (c) mmexact contributors. All rights reserved.
from .cam_utils import (cams_to_seg_scores, minmax_normalize_cams,
                        upsample_cams)
from .conv_gru import ConvGRU
from .conv_lstm import ConvLSTM
from .ltae import LTAE2d
from .sinkhorn import sinkhorn_knopp, sinkhorn_knopp_grouped
from .temporal_utils import (date_positional_encoding, frame_wise,
                             masked_temporal_mean, split_sits_inputs)

__all__ = [
    'sinkhorn_knopp', 'sinkhorn_knopp_grouped', 'minmax_normalize_cams',
    'cams_to_seg_scores', 'upsample_cams', 'ConvLSTM', 'ConvGRU', 'LTAE2d',
    'split_sits_inputs', 'frame_wise', 'masked_temporal_mean',
    'date_positional_encoding'
]
