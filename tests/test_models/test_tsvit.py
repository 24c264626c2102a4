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
            ('standard', 'normed_skip', 'double_skip')]
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


@pytest.mark.parametrize('drop_rate', [0., 0.2])
def test_gradient_checkpointing_same_gradients(drop_rate):
    """Checkpointing re-runs every layer in backward: in train mode (the
    fused layers without dropout; dropout masks that must be replayed with
    it) the loss and every parameter gradient equal the plain run's."""
    x = _inputs(b=1, t=4, pad_to=6, hw=12)
    weight = torch.randn(1, 19, 16, 6, 6,
                         generator=torch.Generator().manual_seed(3))
    runs = []
    for with_cp in (False, True):
        model = _build(img_size=12, drop_rate=drop_rate,
                       emb_drop_rate=drop_rate, with_cp=with_cp).train()
        calls = []
        model.temporal_encoder.layers[0].register_forward_pre_hook(
            lambda *args: calls.append(1))
        torch.manual_seed(1)
        loss = (model(x)[0] * weight).sum()
        loss.backward()
        grads = {n: p.grad.clone() for n, p in model.named_parameters()
                 if p.grad is not None}
        runs.append((loss.detach(), grads, len(calls)))
    (loss_a, grads_a, calls_a), (loss_b, grads_b, calls_b) = runs
    assert (calls_a, calls_b) == (1, 2)  # recomputed in backward
    torch.testing.assert_close(loss_b, loss_a, rtol=1e-6, atol=1e-5)
    assert grads_a.keys() == grads_b.keys() and len(grads_a) > 20
    for name, grad in grads_a.items():
        torch.testing.assert_close(grads_b[name], grad, rtol=1e-5,
                                   atol=1e-6, msg=name)
    if drop_rate:
        # dropout is live, so equal gradients mean the masks were replayed
        model = _build(img_size=12, drop_rate=drop_rate).train()
        torch.manual_seed(2)
        other = (model(x)[0] * weight).sum()
        assert abs(float(other.detach()) - float(loss_a)) > 1e-3


def _encoder_inputs(model, x, seed=0):
    """Inputs of the temporal and spatial encoders, and the temporal
    encoder's output, in one forward pass."""
    seen = {}
    hooks = [
        model.temporal_encoder.register_forward_pre_hook(
            lambda m, args: seen.__setitem__('temporal', args[0])),
        model.spatial_encoder.register_forward_pre_hook(
            lambda m, args: seen.__setitem__('spatial', args[0])),
        model.temporal_encoder.register_forward_hook(
            lambda m, args, out: seen.__setitem__('t_out', out[0])),
    ]
    torch.manual_seed(seed)
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    return seen


def _spatial_input(model, t_out, b):
    """What the spatial encoder sees without embedding dropout."""
    k, d = model.num_tokens, model.embed_dims
    cls = t_out.view(b, model.num_patches, -1, d)[:, :, :k]
    return cls.permute(0, 2, 1, 3).reshape(b * k, -1, d) + \
        model.spatial_pos_embed


def test_embedding_dropout_only_on_the_spatial_input():
    """As in the reference: ``emb_drop_rate`` drops the spatial encoder's
    input tokens only; ``drop_rate`` acts inside the layers only."""
    x = _inputs()
    model = _build(emb_drop_rate=0.5).train()
    seen = _encoder_inputs(model, x)
    tokens, _, _ = model.embed(x)
    b, n, t, d = tokens.shape
    temporal = torch.cat([model.temporal_tokens.expand(b * n, -1, -1),
                          tokens.reshape(b * n, t, d)], dim=1)
    assert torch.equal(seen['temporal'], temporal)  # not dropped
    full = _spatial_input(model, seen['t_out'], b)
    got = seen['spatial']
    dropped = got == 0
    # inverted dropout at p = 0.5: every kept value doubled
    torch.testing.assert_close(got[~dropped], 2 * full[~dropped])
    assert 0.47 < dropped.float().mean().item() < 0.53

    model = _build(drop_rate=0.5).train()  # dropout in the layers only
    seen = _encoder_inputs(model, x)
    assert torch.equal(seen['temporal'], temporal)
    assert torch.equal(seen['spatial'],
                       _spatial_input(model, seen['t_out'], b))
    assert not torch.equal(_encoder_inputs(model, x, seed=1)['t_out'],
                           seen['t_out'])  # the layers' dropout is live
    # the reference configuration drops nothing at all
    assert model.emb_drop.p == 0 and _build().emb_drop.p == 0


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
