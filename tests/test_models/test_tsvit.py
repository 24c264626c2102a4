# Copyright (c) mmexact contributors. All rights reserved.
import pytest
import torch

from mmexact.models import TSViT
from mmexact.testing import tiny_tsvit_cfg
from mmseg.registry import MODELS


def _inputs(b=2, t=5, hw=24, pad_to=None, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(b, t, 11, hw, hw, generator=g)
    doy = torch.arange(1, t + 1) * 30.
    x[:, :, -1] = doy[None, :, None, None]
    if pad_to is not None and pad_to > t:
        x = torch.cat([x, torch.zeros(b, pad_to - t, 11, hw, hw)], dim=1)
    return x


def _build(**kw):
    cfg = tiny_tsvit_cfg(**kw)
    cfg.pop('type')
    torch.manual_seed(0)
    return TSViT(**cfg).eval()


def test_output_shapes():
    model = _build()
    (maps, ) = model(_inputs())
    assert maps.shape == (2, 19, 16, 12, 12)
    (feat, ) = _build(out_type='featmap')(_inputs())
    assert feat.shape == (2, 19 * 16, 12, 12)
    raw = _build(out_type='raw', spatial_cls_token=True)(_inputs(t=7))
    assert raw['temporal_cls'].shape == (2, 144, 19, 16)
    assert raw['temporal_seq'].shape == (2, 144, 7, 16)
    assert raw['spatial'].shape == (2, 19, 144, 16)
    assert raw['global_tokens'].shape == (2, 19, 16)


def test_padding_invariance_when_masked():
    model = _build(mask_padded_frames=True)
    with torch.no_grad():
        a = model(_inputs(t=5, pad_to=12))[0]
        b = model(_inputs(t=5, pad_to=9))[0]
        c = model(_inputs(t=5))[0]
    assert torch.allclose(a, b, atol=1e-5) and torch.allclose(a, c, atol=1e-5)


def test_reference_mode_depends_on_padding():
    model = _build(mask_padded_frames=False)
    with torch.no_grad():
        a = model(_inputs(t=5, pad_to=12))[0]
        b = model(_inputs(t=5, pad_to=9))[0]
    assert (a - b).abs().max() > 1e-3


def test_date_index():
    model = _build()
    doy = torch.tensor([[0., 1., 13., 365., 366.]])
    assert model.date_index(doy).tolist() == [[0, 1, 13, 365, 365]]
    model.emulate_date_truncation = True
    # float32 round trip of the reference: doy 13 and 59 map to doy - 1
    got = model.date_index(torch.tensor([[0., 1., 13., 59., 60.]]))
    assert got.tolist() == [[0, 1, 12, 58, 60]]


def test_residual_modes_differ_and_validate():
    x = _inputs()
    outs = [_build(residual_mode=m)(x)[0] for m in
            ('standard', 'exact_cls', 'exact_seg')]
    assert not torch.allclose(outs[0], outs[1])
    assert not torch.allclose(outs[0], outs[2])
    with pytest.raises(ValueError, match='residual_mode must be one of'):
        _build(residual_mode='bogus')


def test_input_checks():
    model = _build()
    with pytest.raises(ValueError, match='expects inputs'):
        model(torch.zeros(2, 11, 24, 24))
    with pytest.raises(ValueError, match='10 bands \\+ 1 day-of-year'):
        model(torch.zeros(1, 3, 10, 24, 24))
    with pytest.raises(ValueError, match='not divisible by patch_size'):
        _build(img_size=25)


def test_gradients_reach_all_parameters():
    model = _build(spatial_cls_token=True).train()
    out = model(_inputs(t=4, pad_to=6))[0]
    out.sum().backward()
    # the spatial token only feeds the global output, unused by 'tokens'
    missing = [n for n, p in model.named_parameters()
               if p.grad is None and n != 'spatial_token']
    assert missing == []


def test_gradient_checkpointing_same_output():
    x = _inputs()
    a = _build()(x)[0]
    b = _build(with_cp=True).train()
    b.eval()
    assert torch.allclose(a, b(x)[0], atol=1e-6)


def test_reference_parameter_count():
    """TSViT_seg of the reference: 1,657,476 parameters (§8.1)."""
    from mmengine.config import Config
    cfg = Config.fromfile('configs/_base_/models/tsvit_seg.py')
    model = MODELS.build(cfg.model)
    assert sum(p.numel() for p in model.parameters()) == 1_657_476
    assert model.backbone.date_embed.in_features == 366


def test_first_patch_embedding_order():
    """Patch vector order is (row-in-patch, col-in-patch, band)."""
    model = _build(temporal_depth=0, spatial_depth=0)
    x = torch.zeros(1, 1, 11, 24, 24)
    x[0, 0, -1] = 5.
    x[0, 0, 3, 1, 0] = 1.  # band 3, row 1, col 0 of patch (0, 0)
    tokens, valid, doy = model.embed(x)
    w = model.patch_embed.weight
    base = model.patch_embed.bias + model.date_embed.weight[:, 5] + \
        model.date_embed.bias
    idx = (1 * 2 + 0) * 10 + 3
    assert torch.allclose(tokens[0, 0, 0], base + w[:, idx], atol=1e-6)
    assert valid.tolist() == [[True]] and doy.tolist() == [[5.]]
