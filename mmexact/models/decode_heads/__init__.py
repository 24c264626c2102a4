# Copyright (c) mmexact contributors. All rights reserved.
from .tsvit_head import TSViTHead

__all__ = ['TSViTHead']
