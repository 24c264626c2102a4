# Copyright (c) mmexact contributors. All rights reserved.
from .distributed import cleanup_distributed, prepare_cpu_distributed
from .inference import inference_sits, init_model
from .sits_inferencer import (SITSArraySource, SITSBlock, SITSInferencer,
                              window_starts)

__all__ = [
    'prepare_cpu_distributed', 'cleanup_distributed', 'init_model',
    'inference_sits', 'SITSInferencer', 'SITSArraySource', 'SITSBlock',
    'window_starts'
]
