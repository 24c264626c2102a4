# Copyright (c) mmexact contributors. All rights reserved.
from .distributed import cleanup_distributed, prepare_cpu_distributed
from .pseudo_labels import (build_cam_dataloader, build_cam_model,
                            dump_sweep, iter_cams, load_cam_checkpoint,
                            sample_name, select_best, sweep_cams,
                            sweep_checkpoints, write_pseudo_labels)

__all__ = [
    'build_cam_model', 'load_cam_checkpoint', 'build_cam_dataloader',
    'sample_name', 'iter_cams', 'sweep_cams', 'sweep_checkpoints',
    'select_best', 'dump_sweep', 'write_pseudo_labels',
    'prepare_cpu_distributed', 'cleanup_distributed'
]
