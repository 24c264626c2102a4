# Copyright (c) mmexact contributors. All rights reserved.
from .sits_cam_head import SITSCAMHead
from .tsvit_head import TSViTHead

__all__ = ['TSViTHead', 'SITSCAMHead']
