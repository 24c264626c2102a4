# Copyright (c) mmexact contributors. All rights reserved.
from .tsvit import TSViT

__all__ = ['TSViT']
