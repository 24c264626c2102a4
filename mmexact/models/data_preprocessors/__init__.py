# Copyright (c) mmexact contributors. All rights reserved.
from .sits_data_preprocessor import SITSDataPreProcessor

__all__ = ['SITSDataPreProcessor']
