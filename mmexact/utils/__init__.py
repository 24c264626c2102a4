# Copyright (c) mmexact contributors. All rights reserved.
from .checkpoint import (CheckpointError, load_local_checkpoint,
                         register_safe_checkpoint_loader)
from .config_options import (data_root_options, pipeline_options,
                             pseudo_label_options)
from .data_contract import (apply_data_contract, doy_outside_training,
                            ensure_data_contract_hook,
                            extract_data_contract, read_data_contract)
from .flop_count import register_cpu_attention_flops
from .malloc_tuning import keep_freed_memory
from .openmmlab_tools import load_openmmlab_tool
from .safe_pickle import UnsafePickleError, safe_pickle_load
from .tool_runs import (best_checkpoint, checkpoint_iter, free_port,
                        iter_checkpoints, run_python)

__all__ = [
    'CheckpointError', 'load_local_checkpoint',
    'register_safe_checkpoint_loader', 'UnsafePickleError',
    'keep_freed_memory', 'safe_pickle_load', 'load_openmmlab_tool',
    'register_cpu_attention_flops', 'pseudo_label_options', 'pipeline_options',
    'data_root_options', 'run_python',
    'free_port', 'checkpoint_iter', 'iter_checkpoints', 'best_checkpoint',
    'extract_data_contract', 'apply_data_contract', 'read_data_contract',
    'doy_outside_training', 'ensure_data_contract_hook'
]
