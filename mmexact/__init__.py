# Copyright (c) mmexact contributors. All rights reserved.
"""mmexact: Exact (CVPR 2025) and generic SITS components for mmseg 1.x.

Importing the package registers every component into mmsegmentation's
registries and installs the safe checkpoint loader (see
:mod:`mmexact.utils.checkpoint`).
"""
from .utils.checkpoint import register_safe_checkpoint_loader
from .version import __version__

register_safe_checkpoint_loader()

from . import (apis, datasets, engine, evaluation, models,  # noqa: E402,F401
               visualization)

__all__ = [
    '__version__', 'apis', 'datasets', 'engine', 'evaluation', 'models',
    'visualization'
]
