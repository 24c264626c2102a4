# Copyright (c) mmexact contributors. All rights reserved.
from .biconvgru import BiConvGRU
from .fpn_convlstm import FPNConvLSTM
from .tsvit import TSViT
from .unet3d import UNet3D
from .unet_convlstm import UNetConvLSTM
from .utae import UTAE

__all__ = [
    'TSViT', 'UTAE', 'UNet3D', 'UNetConvLSTM', 'FPNConvLSTM', 'BiConvGRU'
]
