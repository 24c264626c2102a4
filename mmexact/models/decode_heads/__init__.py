# Copyright (c) mmexact contributors. All rights reserved.
from .cb_cam_head import CBCAMHead
from .sits_cam_head import SITSCAMHead
from .tsvit_head import TSViTHead

__all__ = ['TSViTHead', 'SITSCAMHead', 'CBCAMHead']
