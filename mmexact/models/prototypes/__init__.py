# Copyright (c) mmexact contributors. All rights reserved.
from .exact_class_prototypes import ExactClassPrototypes

__all__ = ['ExactClassPrototypes']
