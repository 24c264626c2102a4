# Copyright (c) mmexact contributors. All rights reserved.
from .fake_pastis import make_fake_pastis, make_fake_pastis24

__all__ = ['make_fake_pastis', 'make_fake_pastis24']
