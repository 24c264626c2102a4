# Copyright (c) mmexact contributors. All rights reserved.
from typing import List, Optional, Sequence, Tuple

from torch import Tensor, nn

from mmseg.registry import MODELS
from ..utils.conv_lstm import ConvLSTM
from ..utils.sits_unet import TemporalUNet
from ..utils.temporal_utils import masked_temporal_mean

__all__ = ['UNetConvLSTM']


@MODELS.register_module()
class UNetConvLSTM(TemporalUNet):
    """U-Net with a convolutional LSTM at its lowest resolution.

    The recurrent U-Net baseline ("U-ConvLSTM") of the PASTIS benchmark
    (Garnot & Landrieu, ICCV 2021): the spatial encoder and decoder of
    :class:`UTAE`, with the L-TAE replaced by a :class:`ConvLSTM` whose
    final state goes through a 3x3 convolution back to the bottom width,
    and the skip connections collapsed by the mean over the valid frames.
    This is the UNet2D-ConvLSTM family of Rustowicz et al. (CVPR-W 2019):
    a 2-D U-Net shared by the frames, a ConvLSTM over time.

    Defaults are the benchmark's configuration (encoder 64, 64, 64, 128;
    decoder 32, 32, 64, 128; group norm in encoder and decoder; hidden
    width 64; the final *cell* state is the embedding). Padded frames are
    not encoded and leave the recurrent state unchanged.

    Args:
        in_channels (int): Spectral bands C. Defaults to 10.
        encoder_widths (Sequence[int]): Defaults to (64, 64, 64, 128).
        decoder_widths (Sequence[int]): Defaults to (32, 32, 64, 128).
        hidden_channels (int): ConvLSTM width. Defaults to 64.
        state (str): ``'cell'`` (default, as in the benchmark) or
            ``'hidden'``: which final state is the embedding.
        encoder_norm_cfg (dict): Defaults to GroupNorm with 4 groups.
        decoder_norm_cfg (dict): Defaults to GroupNorm with 4 groups.
        padding_mode (str): Defaults to ``'zeros'``.
        out_indices (Sequence[int]): Decoder levels returned, finest first.
            Defaults to (0, ).
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 in_channels: int = 10,
                 encoder_widths: Sequence[int] = (64, 64, 64, 128),
                 decoder_widths: Sequence[int] = (32, 32, 64, 128),
                 hidden_channels: int = 64,
                 state: str = 'cell',
                 encoder_norm_cfg: dict = dict(type='GN', num_groups=4),
                 decoder_norm_cfg: dict = dict(type='GN', num_groups=4),
                 padding_mode: str = 'zeros',
                 out_indices: Sequence[int] = (0, ),
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(
            in_channels=in_channels,
            encoder_widths=encoder_widths,
            decoder_widths=decoder_widths,
            encoder_norm_cfg=encoder_norm_cfg,
            decoder_norm_cfg=decoder_norm_cfg,
            padding_mode=padding_mode,
            out_indices=out_indices,
            init_cfg=init_cfg)
        if state not in ('cell', 'hidden'):
            raise ValueError(f"state must be 'cell' or 'hidden', got "
                             f'{state!r}')
        self.state = state
        self.temporal_encoder = ConvLSTM(encoder_widths[-1], hidden_channels)
        self.out_conv = nn.Conv2d(hidden_channels, encoder_widths[-1], 3,
                                  padding=1)

    def collapse(self, feats: List[Tensor], doy: Tensor,
                 valid: Tensor) -> Tuple[Tensor, List[Tensor]]:
        h, c = self.temporal_encoder(feats[-1], valid)
        bottom = self.out_conv(c if self.state == 'cell' else h)
        skips = [masked_temporal_mean(f, valid) for f in feats[:-1]]
        return bottom, skips
