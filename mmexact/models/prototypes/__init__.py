# Copyright (c) mmexact contributors. All rights reserved.
from .class_prototypes import ClassPrototypes

__all__ = ['ClassPrototypes']
