# Copyright (c) mmexact contributors. All rights reserved.
"""The memory-lean layers compute exactly what the plain modules do."""
import torch
import torch.nn.functional as F

from mmexact.models.layers import GeluFFN, SDPAttention


def test_fused_ffn_matches_plain_forward_and_gradients():
    torch.manual_seed(0)
    ffn = GeluFFN(8, 16)
    x = torch.randn(3, 5, 8, requires_grad=True)
    y = ffn(x)  # fused path (no dropout, grad enabled)
    ref_x = x.detach().clone().requires_grad_()
    ref = ffn.fc2(F.gelu(ffn.fc1(ref_x)))
    assert torch.allclose(y, ref, atol=1e-6)
    g = torch.randn_like(y)
    grads = torch.autograd.grad(y, [x] + list(ffn.parameters()), g)
    ref_grads = torch.autograd.grad(ref, [ref_x] + list(ffn.parameters()), g)
    for a, b in zip(grads, ref_grads):
        assert torch.allclose(a, b, atol=1e-5)


def test_attention_matches_explicit_softmax():
    torch.manual_seed(0)
    attn = SDPAttention(8, num_heads=2, head_dims=4)
    x = torch.randn(2, 6, 8)
    mask = torch.tensor([[True] * 6, [True] * 4 + [False] * 2])
    out, sl = attn(x, mask, slice_queries=2)
    q, k, v = attn.qkv(x).view(2, 6, 3, 2, 4).permute(2, 0, 3, 1, 4)
    logits = q @ k.transpose(-2, -1) / 2.
    logits = logits.masked_fill(~mask[:, None, None], float('-inf'))
    p = logits.softmax(-1)
    ref = attn.proj((p @ v).transpose(1, 2).reshape(2, 6, 8))
    assert torch.allclose(out, ref, atol=1e-6)
    # class->frame slice: first 2 queries over the remaining 4 keys
    assert torch.allclose(sl, p[:, :, :2, 2:].mean(1), atol=1e-6)
    assert torch.all(sl[1, :, 2:] == 0)  # masked keys get no attention
