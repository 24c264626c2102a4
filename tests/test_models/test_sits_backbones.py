# Copyright (c) mmexact contributors. All rights reserved.
"""U-TAE, UNet3D, U-Net + ConvLSTM, FPN + ConvLSTM and BiConvGRU backbones.

Parameter counts are checked at the published configurations against the
published figures (rounded to 0.1 M there): the backbone plus the paper's
classification layer, hand-counted below, for 20 PASTIS classes (19 + void,
as in both papers) and the 10 Sentinel-2 bands.
"""
import math

import pytest
import torch

from mmexact.models.backbones import (UTAE, BiConvGRU, FPNConvLSTM, UNet3D,
                                      UNetConvLSTM)
from mmexact.models.utils import (ConvGRU, ConvLSTM, LTAE2d,
                                  date_positional_encoding,
                                  masked_temporal_mean, split_sits_inputs)
from mmseg.registry import MODELS


def _count(module) -> int:
    return sum(p.numel() for p in module.parameters())


def _within_rounding(count: int, published_millions: float) -> bool:
    """True iff ``count`` rounds to the published figure (0.1 M steps)."""
    return abs(count - published_millions * 1e6) <= 0.05e6


def _packed(b=2, t=6, h=24, w=24, c=10, seed=0, doy=None):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(b, t, c + 1, h, w, generator=g)
    days = torch.arange(1, t + 1, dtype=torch.float32) * 25 if doy is None \
        else torch.as_tensor(doy, dtype=torch.float32)
    x[:, :, -1] = days[None, :, None, None]
    return x


def _pad_frames(x, extra):
    """Append ``extra`` padded frames (random bands, day of year 0)."""
    pad = torch.randn(x.shape[0], extra, *x.shape[2:])
    pad[:, :, -1] = 0
    return torch.cat([x, pad], dim=1)


# U-TAE's output convolutions (decode head): 3x3 32->32 + BN, 3x3 32->20
# + BN (U-TAE paper, section 4 / released configuration out_conv=[32, 20])
UTAE_OUT_CONV = (32 * 32 * 9 + 32) + 2 * 32 + (32 * 20 * 9 + 20) + 2 * 20


def test_ltae_parameter_count_by_hand():
    ltae = LTAE2d()  # C 128, d_model 256, 16 heads, d_k 4, MLP 256 -> 128
    by_hand = (
        2 * 128  # input group norm
        + 128 * 256 + 256  # input projection
        + 16 * 4  # master queries
        + 256 * 16 * 4 + 16 * 4  # key projection
        + 256 * 128 + 128 + 2 * 128  # MLP layer + batch norm
        + 2 * 128)  # output group norm
    assert by_hand == 83_200
    assert _count(ltae) == by_hand


def test_utae_parameter_count_published():
    # Published: 1.1 M for U-TAE on PASTIS, both in the U-TAE README
    # (github.com/VSainteuf/utae-paps, "PASTIS - Semantic segmentation"
    # table, #Params) and in the TSViT paper's PASTIS table (issue 12).
    total = _count(UTAE()) + UTAE_OUT_CONV
    assert UTAE_OUT_CONV == 15_132
    assert total == 1_087_260
    assert _within_rounding(total, 1.1)


def test_unet_convlstm_parameter_count_published():
    # Published: 1.5 M for "Unet-ConvLSTM" in the U-TAE README table (the
    # benchmark's U-ConvLSTM: U-TAE's U-Net, ConvLSTM of width 64). The
    # TSViT paper's 2.3 M "UNet2D-CLSTM" is Rustowicz et al.'s other
    # configuration (a different U-Net and a 128-wide ConvLSTM), not this.
    model = UNetConvLSTM()
    lstm = (128 + 64) * 4 * 64 * 9 + 4 * 64  # gates of the ConvLSTM
    assert _count(model.temporal_encoder) == lstm == 442_624
    total = _count(model) + UTAE_OUT_CONV
    assert total == 1_520_540
    assert _within_rounding(total, 1.5)


@pytest.mark.parametrize('base, published, exact', [
    (8, 1.6, 1_553_796),  # U-TAE README table, "Unet-3d": 1.6 M
    (16, 6.2, 6_176_500),  # TSViT paper, PASTIS table, UNet3D: 6.2 M
])
def test_unet3d_parameter_count_published(base, published, exact):
    # classifier of the paper: 3x3x3 convolution 2f -> 20 (+ bias). The
    # TSViT version also feeds the day-of-year channel (+27 * 4f weights)
    # and collapses time with Linear(T, 1) (+T + 1): < 2 k, far inside the
    # rounding of 6.2 M.
    total = _count(UNet3D(base_channels=base)) + 2 * base * 20 * 27 + 20
    assert total == exact
    assert _within_rounding(total, published)


def test_fpn_convlstm_parameter_count_published():
    # Published: 1.2 M for FPN-ConvLSTM in the TSViT paper's PASTIS table,
    # with the PASTIS benchmark's configuration (stem 32, 64; 4 pyramid
    # levels of 64; ConvLSTM 88; 1x1 classifier). The U-TAE README lists
    # 1.3 M for the same model name; this configuration gives 1.15 M, so
    # that figure is not reproduced.
    total = _count(FPNConvLSTM()) + 88 * 20 + 20
    assert total == 1_151_028
    assert _within_rounding(total, 1.2)


def test_biconvgru_parameter_count_published():
    # Published: 4.5 M for BiCGRU in the TSViT paper's PASTIS table
    # (MTLCC encoder: 64-wide 3x3 frame embedding, two ConvGRUs of 256,
    # 3x3 classifier on the concatenated states).
    gru = ((64 + 256) * 2 * 256 * 9 + 2 * 256) + \
        ((64 + 256) * 256 * 9 + 256)
    model = BiConvGRU()
    assert _count(model.forward_gru) == gru == 2_212_608
    total = _count(model) + 512 * 20 * 9 + 20
    assert total == 4_523_220
    assert _within_rounding(total, 4.5)


TINY = dict(
    UTAE=dict(type='UTAE', encoder_widths=(16, 16, 16, 32),
              decoder_widths=(8, 8, 16, 32),
              ltae=dict(embed_dims=32, num_heads=4, key_dims=4,
                        mlp_channels=(32, ))),
    UNetConvLSTM=dict(type='UNetConvLSTM', encoder_widths=(8, 8, 8, 16),
                      decoder_widths=(8, 8, 8, 16), hidden_channels=8),
    UNet3D=dict(type='UNet3D', base_channels=2),
    FPNConvLSTM=dict(type='FPNConvLSTM', stem_channels=(8, 8),
                     pyramid_channels=8, hidden_channels=8),
    BiConvGRU=dict(type='BiConvGRU', embed_channels=8, hidden_channels=8),
)
OUT_CHANNELS = dict(UTAE=8, UNetConvLSTM=8, UNet3D=4, FPNConvLSTM=8,
                    BiConvGRU=16)


@pytest.mark.parametrize('name', sorted(TINY))
@pytest.mark.parametrize('size', [24, 128])
def test_output_shape_windows_and_whole_patches(name, size):
    model = MODELS.build(TINY[name]).eval()
    with torch.no_grad():
        out = model(_packed(b=1, t=5 if size == 128 else 6, h=size, w=size))
    assert isinstance(out, tuple) and len(out) == 1
    assert out[0].shape == (1, OUT_CHANNELS[name], size, size)
    assert torch.isfinite(out[0]).all()


@pytest.mark.parametrize(
    'name', ['UTAE', 'UNetConvLSTM', 'FPNConvLSTM', 'BiConvGRU'])
def test_padded_frames_do_not_change_the_output(name):
    """Padding a series from 6 to 9 frames leaves every output unchanged."""
    model = MODELS.build(TINY[name]).eval()
    x = _packed(b=2, t=6)
    x[1, 4:] = 0  # sample 1 is already padded from 4 to 6 frames
    with torch.no_grad():
        ref = model(x)[0]
        out = model(_pad_frames(x, 3))[0]
        single = model(x[1:, :4])[0]
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(ref[1:], single, atol=1e-5, rtol=1e-5)


def test_unet3d_ignores_values_of_padded_frames():
    """Padded frames enter UNet3D as zeros, whatever the pipeline wrote."""
    model = MODELS.build(TINY['UNet3D']).eval()
    x = _packed(b=1, t=8)
    x[:, 6:] = 0
    noisy = x.clone()
    noisy[:, 6:, :-1] = torch.randn(1, 2, 10, 24, 24)
    with torch.no_grad():
        torch.testing.assert_close(model(noisy)[0], model(x)[0])


def test_utae_reads_the_dates():
    model = MODELS.build(TINY['UTAE']).eval()
    x = _packed(b=1, t=6)
    y = x.clone()
    y[:, :, -1] += 40  # same images, other acquisition dates
    with torch.no_grad():
        assert not torch.allclose(model(x)[0], model(y)[0], atol=1e-4)


@pytest.mark.parametrize('agg', ['att_group', 'att_mean', 'mean'])
def test_utae_skip_aggregations_and_outputs(agg):
    cfg = dict(TINY['UTAE'], skip_aggregation=agg, out_indices=(0, 1, 2, 3))
    model = MODELS.build(cfg).eval()
    with torch.no_grad():
        outs = model(_packed(b=1, t=4))
    assert [tuple(o.shape[1:]) for o in outs] == [(8, 24, 24), (8, 12, 12),
                                                  (16, 6, 6), (32, 3, 3)]


def test_ltae_uniform_attention_without_query_and_masked_padding():
    """A zero master query attends uniformly to the valid frames only."""
    ltae = LTAE2d(in_channels=8, embed_dims=8, num_heads=2, key_dims=2,
                  mlp_channels=(8, ), dropout=0.).eval()
    with torch.no_grad():
        ltae.query.zero_()
    x = torch.randn(2, 5, 8, 3, 3)
    valid = torch.tensor([[True] * 5, [True, True, True, False, False]])
    doy = torch.arange(1, 6).float().repeat(2, 1) * valid
    with torch.no_grad():
        out, attn = ltae(x, doy, valid)
    assert out.shape == (2, 8, 3, 3) and attn.shape == (2, 2, 5, 3, 3)
    torch.testing.assert_close(attn[:, 0], torch.full_like(attn[:, 0], 0.2))
    torch.testing.assert_close(attn[:, 1, :3],
                               torch.full_like(attn[:, 1, :3], 1 / 3))
    assert (attn[:, 1, 3:] == 0).all()


def test_date_positional_encoding_values():
    pe = date_positional_encoding(torch.tensor([[0., 10.]]), 4, 1000.)
    # channel 2i: sin(d / 1000^(2i/4)), channel 2i+1: the cosine
    expected = torch.tensor([[[0., 1., 0., 1.],
                              [math.sin(10), math.cos(10),
                               math.sin(10 / 1000**0.5),
                               math.cos(10 / 1000**0.5)]]])
    torch.testing.assert_close(pe, expected)


def test_masked_temporal_mean_values():
    x = torch.tensor([[1., 2., 30.], [4., 5., 6.]]).view(2, 3, 1, 1, 1)
    valid = torch.tensor([[True, True, False], [True, True, True]])
    out = masked_temporal_mean(x, valid)
    assert out.flatten().tolist() == [1.5, 5.0]


def _constant_gates(module, bias):
    with torch.no_grad():
        for p in module.parameters():
            p.zero_()
        for conv, b in zip(
                [module.gates] + ([module.candidate] if hasattr(
                    module, 'candidate') else []), bias):
            conv.bias.copy_(torch.tensor(b))


def test_conv_lstm_by_hand_and_padding():
    lstm = ConvLSTM(1, 1, kernel_size=1)
    # gates (i, f, o, g) with zero weights: constant pre-activations
    _constant_gates(lstm, [[0., 1., 2., 0.5]])
    x = torch.zeros(1, 2, 1, 1, 1)
    h, c = lstm(x)
    s = torch.sigmoid
    c1 = s(torch.tensor(0.)) * math.tanh(0.5)
    c2 = s(torch.tensor(1.)) * c1 + s(torch.tensor(0.)) * math.tanh(0.5)
    assert c.item() == pytest.approx(c2.item(), abs=1e-6)
    assert h.item() == pytest.approx(
        (s(torch.tensor(2.)) * torch.tanh(c2)).item(), abs=1e-6)
    # a padded second frame leaves the state of the first one
    h, c = lstm(x, torch.tensor([[True, False]]))
    assert c.item() == pytest.approx(c1.item(), abs=1e-6)


def test_conv_gru_by_hand_reverse_and_padding():
    gru = ConvGRU(1, 1, kernel_size=1, reverse=True)
    _constant_gates(gru, [[0., 1.], [0.3]])
    z, n = torch.sigmoid(torch.tensor(1.)), math.tanh(0.3)
    h = gru(torch.zeros(1, 3, 1, 1, 1))
    h1 = z * n
    h2 = (1 - z) * h1 + z * n
    h3 = (1 - z) * h2 + z * n
    assert h.item() == pytest.approx(h3.item(), abs=1e-6)
    # reversed reading skips the padded frames at the end
    h = gru(torch.zeros(1, 3, 1, 1, 1), torch.tensor([[True, False, False]]))
    assert h.item() == pytest.approx(h1.item(), abs=1e-6)


def test_input_errors_name_the_backbone():
    with pytest.raises(ValueError, match='UTAE expects 10 bands'):
        UTAE()(torch.zeros(1, 3, 10, 24, 24))
    with pytest.raises(ValueError, match=r'UNet3D expects inputs \(B, T'):
        UNet3D()(torch.zeros(3, 11, 24, 24))
    x = _packed(b=2, t=3)
    x[1, :, -1] = 0
    with pytest.raises(ValueError, match=r'sample\(s\) \[1\].*no valid'):
        split_sits_inputs(x, 10, 'BiConvGRU')
    with pytest.raises(ValueError, match='divisible by 8'):
        MODELS.build(TINY['UTAE'])(_packed(b=1, t=2, h=20, w=20))
