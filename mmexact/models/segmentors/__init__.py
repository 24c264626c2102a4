# Copyright (c) mmexact contributors. All rights reserved.
from .sits_cam_segmentor import SITSCAMSegmentor
from .sits_encoder_decoder import SITSEncoderDecoder

__all__ = ['SITSEncoderDecoder', 'SITSCAMSegmentor']
