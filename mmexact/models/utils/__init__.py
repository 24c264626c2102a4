# Copyright (c) mmexact contributors. All rights reserved.
from .sinkhorn import sinkhorn_knopp

__all__ = ['sinkhorn_knopp']
