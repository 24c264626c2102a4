# Copyright (c) mmexact contributors. All rights reserved.
"""mmexact: generic SITS components for mmseg 1.x and Exact (CVPR 2025).

Importing the package registers every component into mmsegmentation's
registries and installs the safe checkpoint loader (see
:mod:`mmexact.utils.checkpoint`).
"""
from .utils.checkpoint import register_safe_checkpoint_loader
from .version import __version__

register_safe_checkpoint_loader()

from . import (apis, datasets, engine, evaluation, exact,  # noqa: E402,F401
               models, visualization)

__all__ = [
    '__version__', 'apis', 'datasets', 'engine', 'evaluation', 'exact',
    'models', 'visualization'
]
