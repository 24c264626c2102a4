# Copyright (c) mmexact contributors. All rights reserved.
from .checkpoint import (CheckpointError, load_local_checkpoint,
                         register_safe_checkpoint_loader)
from .safe_pickle import UnsafePickleError, safe_pickle_load

__all__ = [
    'CheckpointError', 'load_local_checkpoint',
    'register_safe_checkpoint_loader', 'UnsafePickleError',
    'safe_pickle_load'
]
