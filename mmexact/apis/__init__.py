# Copyright (c) mmexact contributors. All rights reserved.
from .distributed import (cleanup_distributed, init_distributed,
                          prepare_cpu_distributed)
from .inference import inference_sits, init_model
from .pseudo_labels import (ShardedBatchSampler, build_cam_dataloader,
                            build_cam_model, checkpoint_cache_dir,
                            dump_sweep, iter_cams, load_cam_checkpoint,
                            pseudo_label_options, sample_name, select_best,
                            sweep_cached, sweep_cams, sweep_checkpoints,
                            write_pseudo_labels)
from .sits_inferencer import (SITSArraySource, SITSBlock, SITSInferencer,
                              window_starts)

__all__ = [
    'build_cam_model', 'load_cam_checkpoint', 'build_cam_dataloader',
    'sample_name', 'iter_cams', 'sweep_cams', 'sweep_checkpoints',
    'select_best', 'dump_sweep', 'write_pseudo_labels',
    'prepare_cpu_distributed', 'cleanup_distributed', 'init_distributed',
    'ShardedBatchSampler', 'checkpoint_cache_dir', 'sweep_cached', 'init_model',
    'inference_sits', 'SITSInferencer', 'SITSArraySource', 'SITSBlock',
    'window_starts', 'pseudo_label_options'
]
