# Copyright (c) mmexact contributors. All rights reserved.
"""TransformerLayer(act_cfg): the fused GELU FFN or any mmcv activation."""
import pytest
import torch
import torch.nn.functional as F

from mmexact.models import TSViT
from mmexact.models.layers import ActFFN, GeluFFN, TransformerLayer
from mmexact.testing import tiny_tsvit_cfg


def _layer(act_cfg, mode='standard'):
    torch.manual_seed(0)
    return TransformerLayer(16, 2, 8, 32, residual_mode=mode,
                            act_cfg=act_cfg).train()


@pytest.mark.parametrize('act, fn', [
    (dict(type='ReLU'), F.relu),
    (dict(type='SiLU'), F.silu),
    (dict(type='GELU', approximate='tanh'),
     lambda t: F.gelu(t, approximate='tanh')),
])
def test_other_activations_run_the_plain_ffn(act, fn):
    layer = _layer(act)
    assert isinstance(layer.ffn, ActFFN)
    gelu = _layer(dict(type='GELU'))
    assert isinstance(gelu.ffn, GeluFFN)  # the fused path stays for GELU
    # same parameters: a GELU checkpoint loads strictly
    layer.load_state_dict(gelu.state_dict(), strict=True)
    x = torch.randn(3, 7, 16, requires_grad=True)
    out, _ = layer(x)
    # by hand: h = x + MHSA(LN1(x)); out = h + fc2(act(fc1(LN2(h))))
    _, q, k, v = layer.attn.project(x, layer.norm1)
    a, _ = layer.attn.attend(q, k, v, None, 0)
    h = x + a
    ffn = layer.ffn
    expected = h + ffn.fc2(fn(ffn.fc1(layer.norm2(h))))
    torch.testing.assert_close(out, expected)
    out.sum().backward()
    assert ffn.fc1.weight.grad is not None and x.grad is not None
    assert not torch.allclose(out, gelu(x)[0])


def test_tsvit_passes_act_cfg_to_every_layer():
    cfg = tiny_tsvit_cfg(act_cfg=dict(type='ReLU'))
    cfg.pop('type')
    model = TSViT(**cfg)
    ffns = [layer.ffn for enc in (model.temporal_encoder,
                                  model.spatial_encoder)
            for layer in enc.layers]
    assert ffns and all(isinstance(f, ActFFN) and
                        isinstance(f.act, torch.nn.ReLU) for f in ffns)
    cfg = tiny_tsvit_cfg()
    cfg.pop('type')
    default = TSViT(**cfg)
    assert all(isinstance(layer.ffn, GeluFFN)
               for layer in default.temporal_encoder.layers)
    assert sum(p.numel() for p in model.parameters()) == sum(
        p.numel() for p in default.parameters())
    x = torch.randn(1, 3, 11, 24, 24)
    x[:, :, -1] = torch.tensor([10., 50., 90.])[None, :, None, None]
    assert model(x)[0].shape == (1, 19, 16, 12, 12)


def test_unknown_activation_is_a_clear_error():
    with pytest.raises(KeyError, match='Bogus'):
        _layer(dict(type='Bogus'))
