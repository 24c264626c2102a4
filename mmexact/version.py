# Copyright (c) mmexact contributors. All rights reserved.
"""The package version (a bottom-layer module: imports nothing)."""

__all__ = ['__version__']

__version__ = '0.1.0'
