# Copyright (c) mmexact contributors. All rights reserved.
"""The memory-lean layers compute exactly what the plain modules do."""
import pytest
import torch
import torch.nn.functional as F

from mmexact.models.layers import (GeluFFN, SDPAttention, TransformerLayer,
                                   fused_ops)


def _graph_nodes(t):
    """Names of the autograd nodes behind t."""
    seen, todo, names = set(), [t.grad_fn], set()
    while todo:
        fn = todo.pop()
        if fn is None or fn in seen:
            continue
        seen.add(fn)
        names.add(type(fn).__name__)
        todo.extend(f for f, _ in fn.next_functions)
    return names


def test_fused_ffn_matches_plain_forward_and_gradients():
    torch.manual_seed(0)
    ffn = GeluFFN(8, 16)
    norm = torch.nn.LayerNorm(8)
    torch.nn.init.normal_(norm.weight)
    x = torch.randn(3, 5, 8, requires_grad=True)
    ref_x = x.detach().clone().requires_grad_()
    params = [x] + list(ffn.parameters()) + list(norm.parameters())
    ref_params = [ref_x] + params[1:]
    for use_norm in (False, True):
        y = ffn(x, norm if use_norm else None)  # fused: grad enabled
        assert '_NormGeluFFNBackward' in _graph_nodes(y)
        h = norm(ref_x) if use_norm else ref_x
        ref = ffn.fc2(F.gelu(ffn.fc1(h)))
        assert torch.allclose(y, ref, rtol=1e-6, atol=1e-6)
        g = torch.randn_like(y)
        grads = torch.autograd.grad(y, params, g, allow_unused=True)
        ref_grads = torch.autograd.grad(
            ref, ref_params, g, allow_unused=True)
        for a, b in zip(grads, ref_grads):
            assert (a is None) == (b is None)
            if a is not None:
                assert torch.allclose(a, b, atol=1e-5)


def test_attention_matches_explicit_softmax():
    torch.manual_seed(0)
    attn = SDPAttention(8, num_heads=2, head_dims=4)
    x = torch.randn(2, 6, 8, requires_grad=True)
    mask = torch.tensor([[True] * 6, [True] * 4 + [False] * 2])
    out, sl = attn(x, mask, slice_queries=2)
    q, k, v = attn.qkv(x).view(2, 6, 3, 2, 4).permute(2, 0, 3, 1, 4)
    logits = q @ k.transpose(-2, -1) / 2.
    logits = logits.masked_fill(~mask[:, None, None], float('-inf'))
    p = logits.softmax(-1)
    ref = attn.proj((p @ v).transpose(1, 2).reshape(2, 6, 8))
    assert torch.allclose(out, ref, atol=1e-6)
    # class->frame slice: first 2 queries over the remaining 4 keys; a clue
    # without gradient
    assert torch.allclose(sl, p[:, :, :2, 2:].mean(1), atol=1e-6)
    assert not sl.requires_grad
    assert torch.all(sl[1, :, 2:] == 0)  # masked keys get no attention
    # the fused projection (no norm) has the plain gradients
    assert '_NormLinearsBackward' in _graph_nodes(out)
    g = torch.randn_like(out)
    ref_x = x.detach().clone().requires_grad_()
    params = list(attn.parameters())
    with fused_ops.plain_autograd():
        plain = attn(ref_x, mask)[0]
    assert '_NormLinearsBackward' not in _graph_nodes(plain)
    for a, b in zip(torch.autograd.grad(out, [x] + params, g),
                    torch.autograd.grad(plain, [ref_x] + params, g)):
        assert torch.allclose(a, b, atol=1e-5)


def _plain_layer(layer, x, mask, mode):
    """The layer written out with plain modules (stores everything)."""
    n, length, d = x.shape
    heads, dh = layer.attn.num_heads, layer.attn.head_dims
    u = layer.norm1(x)
    q, k, v = layer.attn.qkv(u).view(n, length, 3, heads,
                                     dh).permute(2, 0, 3, 1, 4)
    a = F.scaled_dot_product_attention(q, k, v, attn_mask=mask[:, None,
                                                                None])
    a = layer.attn.proj(a.transpose(1, 2).reshape(n, length, -1))
    h = dict(standard=x + a, normed_skip=u + a, double_skip=x + u + a)[mode]
    return h + layer.ffn.fc2(F.gelu(layer.ffn.fc1(layer.norm2(h))))


@pytest.mark.slow
@pytest.mark.parametrize('mode', ['standard', 'normed_skip', 'double_skip'])
@pytest.mark.parametrize('chunk', [4096, 5])
def test_fused_layer_equals_plain_layer(mode, chunk, monkeypatch):
    monkeypatch.setattr(fused_ops, 'CHUNK_ROWS', chunk)  # 5: 5 chunks
    torch.manual_seed(0)
    layer = TransformerLayer(16, 2, 8, 64, residual_mode=mode).double()
    for p in layer.parameters():  # non-trivial LayerNorm affine terms
        torch.nn.init.normal_(p, std=0.5)
    x = torch.randn(3, 7, 16, dtype=torch.double, requires_grad=True)
    mask = torch.tensor([[True] * 7, [True] * 5 + [False] * 2, [True] * 7])
    y, _ = layer(x, mask)
    assert {'_NormLinearsBackward',
            '_NormGeluFFNBackward'} <= _graph_nodes(y)
    ref = _plain_layer(layer, x, mask, mode)
    # same kernels; chunked products may round row blocks differently
    assert torch.allclose(y, ref, rtol=1e-12, atol=1e-12)
    params = [x] + list(layer.parameters())
    g = torch.randn_like(y)
    for a, b in zip(torch.autograd.grad(y, params, g),
                    torch.autograd.grad(ref, params, g)):
        assert torch.allclose(a, b, rtol=1e-10, atol=1e-12)
    assert torch.autograd.gradcheck(lambda t: layer(t, mask)[0], (x, ))


def test_training_layer_stores_only_inputs_qkv_and_outputs():
    """Hand count: per token the LN statistics (2 x 2 floats), q, k, v and
    the attention output (4 x inner) and the FFN input h (d); per query row
    the attention log-sum-exp. Not the LayerNorm outputs, not the hidden
    pre-activation (4d here) nor its GELU."""
    torch.manual_seed(0)
    n, length, d, heads, dh = 3, 7, 16, 2, 12
    layer = TransformerLayer(d, heads, dh, 64, residual_mode='normed_skip')
    x = torch.randn(n, length, d, requires_grad=True)
    skip = {p.untyped_storage().data_ptr() for p in layer.parameters()}
    skip.add(x.untyped_storage().data_ptr())
    saved = {}

    def pack(t):
        s = t.untyped_storage()
        if s.data_ptr() not in skip:
            saved[s.data_ptr()] = s.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        layer(x, None, slice_queries=2)
    tokens, inner = n * length, heads * dh
    floats = tokens * (4 + 4 * inner + d) + n * heads * length
    assert sum(saved.values()) == 4 * floats


def test_plain_autograd_switch_counts_model_flops():
    """FLOP counters miss the fused path's in-place products; inside
    plain_autograd() a layer counts exactly the FLOPs of the plain
    composition (used by tools/analysis_tools/benchmark.py)."""
    from torch.utils.flop_counter import FlopCounterMode

    from mmexact.utils import register_cpu_attention_flops
    register_cpu_attention_flops()
    from mmexact.models.layers.fused_ops import plain_autograd
    torch.manual_seed(0)
    layer = TransformerLayer(16, 2, 8, 64, residual_mode='normed_skip')
    x = torch.randn(3, 7, 16, requires_grad=True)
    mask = torch.ones(3, 7, dtype=torch.bool)

    def count(fn):
        with FlopCounterMode(display=False) as counter:
            fn().sum().backward()
        return counter.get_total_flops()

    reference = count(lambda: _plain_layer(layer, x, mask, 'normed_skip'))
    linear_fwd = 2 * 21 * (16 * 48 + 16 * 16 + 2 * 16 * 64)
    # attention: q k^T and p v (2 x 2 n h L^2 dh) forward, 2.5x in backward
    attention_fwd = 2 * 2 * 3 * 2 * 7 * 7 * 8
    assert reference == 3 * linear_fwd + attention_fwd * 7 // 2
    with plain_autograd():
        assert count(lambda: layer(x, mask)[0]) == reference


def test_inference_ffn_in_chunks_and_empty_inputs(monkeypatch):
    monkeypatch.setattr(fused_ops, 'CHUNK_ROWS', 4)  # 21 tokens: 6 chunks
    torch.manual_seed(0)
    layer = TransformerLayer(16, 2, 8, 64, residual_mode='double_skip').eval()
    x = torch.randn(3, 7, 16)
    mask = torch.ones(3, 7, dtype=torch.bool)
    with torch.no_grad():
        y, _ = layer(x, mask)
        assert torch.allclose(y, _plain_layer(layer, x, mask, 'double_skip'),
                              atol=1e-5)
        assert layer(x[:0], mask[:0])[0].shape == (0, 7, 16)
    # no tokens with gradients: the plain path, no crash
    y, _ = layer(x[:0].requires_grad_(), mask[:0])
    assert y.shape == (0, 7, 16)


def test_fused_outputs_may_be_modified_in_place_but_not_twice_differentiated():
    torch.manual_seed(0)
    attn = SDPAttention(8, num_heads=2, head_dims=4)
    x = torch.randn(2, 6, 8, requires_grad=True)
    u, q, k, v = attn.project(x, torch.nn.LayerNorm(8))
    u.add_(1.)  # outputs are not views of hidden tensors
    ffn = GeluFFN(8, 16)
    (gx, ) = torch.autograd.grad((ffn(x)**2).sum(), x, create_graph=True)
    with pytest.raises(RuntimeError, match='once_differentiable|twice'):
        gx.sum().backward()


def _saved_bytes(fn, skip):
    saved = {}

    def pack(t):
        s = t.untyped_storage()
        if s.data_ptr() not in skip:
            saved[s.data_ptr()] = s.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = fn()
    return out, sum(saved.values())


def test_fused_layer_under_bf16_autocast():
    """Under autocast the fused path follows autocast's dtypes (products
    in bf16, LayerNorm and residual stream in fp32), matches the plain
    modules to bf16 precision and keeps its memory savings."""
    torch.manual_seed(0)
    n, length, d = 4, 9, 32
    layer = TransformerLayer(d, 2, 16, 128, residual_mode='normed_skip')
    x = torch.randn(n, length, d, requires_grad=True)
    params = [x] + list(layer.parameters())
    skip = {p.untyped_storage().data_ptr() for p in params}
    g = torch.randn(n, length, d)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        y, fused_bytes = _saved_bytes(lambda: layer(x)[0], skip)
        with fused_ops.plain_autograd():
            ref, plain_bytes = _saved_bytes(lambda: layer(x)[0], skip)
    assert {'_NormLinearsBackward',
            '_NormGeluFFNBackward'} <= _graph_nodes(y)
    assert '_NormLinearsBackward' not in _graph_nodes(ref)
    assert y.dtype == ref.dtype == torch.float32  # residual stream
    fp32 = layer(x)[0]
    # same rounding points as autocast: the fused output is as close to
    # the plain autocast one as bf16 allows, and both near fp32
    assert (y - ref).abs().max() < 2e-2
    assert (y - fp32).abs().max() < 6e-2
    grads = torch.autograd.grad(y, params, g)
    ref_grads = torch.autograd.grad(ref, params, g)
    for a, b in zip(grads, ref_grads):
        assert a.dtype == b.dtype == torch.float32
        assert (a - b).norm() <= 2e-2 * b.norm() + 1e-6
    # memory: without the LN outputs (fp32 and bf16 copies) and the FFN
    # hidden activation the fused layer stores 40 % of the plain bytes
    assert fused_bytes < 0.5 * plain_bytes, (fused_bytes, plain_bytes)
