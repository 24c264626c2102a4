# Copyright (c) mmexact contributors. All rights reserved.
from .cam_head import CAMHead
from .cb_cam_head import CBCAMHead
from .tsvit_head import TSViTHead

__all__ = ['TSViTHead', 'CAMHead', 'CBCAMHead']
