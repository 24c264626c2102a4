# Copyright (c) mmexact contributors. All rights reserved.
"""mmexact: generic SITS components for mmseg 1.x and Exact (CVPR 2025).

Importing the package registers the generic SITS components into
mmsegmentation's registries and installs the safe checkpoint loader (see
:mod:`mmexact.utils.checkpoint`). Exact's own components register with
``import mmexact.exact``, which Exact's configs request themselves
(``custom_imports`` in ``configs/_base_/models/exact_tsvit.py``), as
mmseg's projects do.
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
