# Copyright (c) mmexact contributors. All rights reserved.
from typing import Optional

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmseg.registry import MODELS
from ..utils.temporal_utils import masked_temporal_mean, split_sits_inputs

__all__ = ['UNet3D']


def _conv3d(in_channels: int, out_channels: int) -> nn.Sequential:
    """3x3x3 convolution -> BatchNorm3d -> LeakyReLU."""
    return nn.Sequential(
        nn.Conv3d(in_channels, out_channels, 3, padding=1),
        nn.BatchNorm3d(out_channels), nn.LeakyReLU(inplace=True))


def _up3d(in_channels: int, out_channels: int) -> nn.ConvTranspose3d:
    """Transposed 3x3x3 convolution doubling time, height and width."""
    return nn.ConvTranspose3d(
        in_channels,
        out_channels,
        3,
        stride=2,
        padding=1,
        output_padding=1)


@MODELS.register_module()
class UNet3D(BaseModule):
    """3-D U-Net over (time, height, width).

    `Semantic Segmentation of Crop Type in Africa: A Novel Dataset and
    Analysis of Deep Learning Methods
    <https://openaccess.thecvf.com/content_CVPRW_2019/html/cv4gc/
    Rustowicz_Semantic_Segmentation_of_Crop_Type_in_Africa_A_Novel_Dataset_
    CVPRW_2019_paper.html>`_ (Rustowicz et al., CVPR-W 2019). With ``f =
    base_channels``, all convolutions 3x3x3 -> BatchNorm3d -> LeakyReLU:

    - encoder: two convolutions to 4f, max-pool (2, 2, 2), two to 8f,
      max-pool, one to 16f;
    - decoder: one convolution (16f), transposed convolution to 8f (x2),
      concatenation with the 8f encoder map, two convolutions to 8f,
      transposed convolution to 4f (+ BN, LeakyReLU), concatenation with
      the 4f encoder map, convolutions to 4f and 2f.

    The time axis is then collapsed by the mean over the valid frames,
    giving a (B, 2f, H, W) map (the paper's last layer, a 3x3x3 convolution
    to the classes before the temporal mean, becomes the decode head).
    ``base_channels=8`` is the configuration of the PASTIS benchmark
    (Garnot & Landrieu 2021), 16 the one of the TSViT paper (Tarasiou et
    al. 2023).

    Time is zero-padded internally to a multiple of 4 (two poolings);
    padded frames (day of year 0) are zero inputs and are excluded from the
    final mean, but the 3x3x3 convolutions still see them as zeros next to
    the last valid frame, as in the published model. H and W must be
    multiples of 4.

    Args:
        in_channels (int): Spectral bands C. Defaults to 10.
        base_channels (int): f. Defaults to 8.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 in_channels: int = 10,
                 base_channels: int = 8,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        f = base_channels
        self.in_channels = in_channels
        self.out_channels = 2 * f
        self.enc1 = nn.Sequential(_conv3d(in_channels, 4 * f),
                                  _conv3d(4 * f, 4 * f))
        self.enc2 = nn.Sequential(_conv3d(4 * f, 8 * f), _conv3d(8 * f, 8 * f))
        self.center = nn.Sequential(
            _conv3d(8 * f, 16 * f), _conv3d(16 * f, 16 * f),
            _up3d(16 * f, 8 * f))
        self.dec2 = nn.Sequential(
            _conv3d(16 * f, 8 * f), _conv3d(8 * f, 8 * f),
            _up3d(8 * f, 4 * f), nn.BatchNorm3d(4 * f),
            nn.LeakyReLU(inplace=True))
        self.dec1 = nn.Sequential(_conv3d(8 * f, 4 * f), _conv3d(4 * f, 2 * f))

    def forward(self, inputs: Tensor) -> tuple:
        """Encode a packed SITS batch.

        Args:
            inputs (Tensor): Packed SITS (B, T, C + 1, H, W).

        Returns:
            tuple[Tensor]: one (B, 2 * base_channels, H, W) map.
        """
        x, _, valid = split_sits_inputs(inputs, self.in_channels, 'UNet3D')
        h, w = x.shape[-2:]
        if h % 4 or w % 4:
            raise ValueError(f'UNet3D needs H and W divisible by 4, got '
                             f'{(h, w)}')
        pad_t = -x.shape[1] % 4
        if pad_t:
            x = F.pad(x, (0, 0, 0, 0, 0, 0, 0, pad_t))
            valid = F.pad(valid, (0, pad_t), value=False)
        x = x.transpose(1, 2)  # (B, C, T, H, W)
        e1 = self.enc1(x)
        e2 = self.enc2(F.max_pool3d(e1, 2))
        d2 = self.dec2(torch.cat([self.center(F.max_pool3d(e2, 2)), e2], 1))
        d1 = self.dec1(torch.cat([d2, e1], 1))
        return (masked_temporal_mean(d1, valid, dim=2), )
