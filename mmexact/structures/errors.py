# Copyright (c) mmexact contributors. All rights reserved.
"""The error type of malformed SITS inputs (readers, datasets, geo)."""

__all__ = ['SITSDataError']


class SITSDataError(ValueError):
    """A SITS data file is malformed; the message names the file."""
