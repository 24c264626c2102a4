# Copyright (c) mmexact contributors. All rights reserved.
"""Memory-lean fused blocks of the transformer layers.

Both autograd functions keep only their *input* (plus the LayerNorm
statistics) for backward and recompute the LayerNorm output — and, in the
feed-forward block, the hidden pre-activation — there, a chunk of tokens at
a time. The arithmetic is that of the plain module composition (the same
kernels), so outputs and gradients agree with it up to the rounding of
chunked products and the order of sums.

Per temporal layer of Exact's reference configuration (attention width 2d,
FFN width 4d) a training step then stores 10 token widths d — x, h, and q,
k, v and the attention output at 2d each — instead of 16: the two LayerNorm
outputs and the FFN hidden activation are no longer kept.

Under autocast (fp16 / bf16, CPU or GPU) the functions follow autocast's
rules by hand: the LayerNorm runs in float32 on the float32 residual
stream, the products run in the autocast dtype (weights cast to it) and
return it, and weight gradients are accumulated in float32. They keep
their memory savings (the stored input stays the float32 ``x``; the
low-precision copies of the normalised input and of the hidden activation
are recomputed in backward).
"""
from contextlib import contextmanager
from typing import Iterator, List, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.autograd.function import once_differentiable

__all__ = [
    'CHUNK_ROWS', 'chunk_rows', 'can_fuse', 'autocast_dtype', 'norm_linears',
    'norm_gelu_ffn', 'plain_autograd'
]

#: tokens per chunk of the feed-forward blocks (hidden activations of a
#: chunk, 4096 x 512 floats in Exact, stay in cache)
CHUNK_ROWS = 4096
#: on accelerators chunks only bound memory (kernel launches cost more)
ACCELERATOR_CHUNK_ROWS = 65536
_fusion_enabled = True


@contextmanager
def plain_autograd() -> Iterator[None]:
    """Run the layers as plain module compositions inside this block.

    Used to count a step's model FLOPs without the recomputation (and
    because FLOP counters do not see in-place / ``out=`` products). With
    gradient checkpointing (``with_cp``) run forward *and* backward inside
    the block: the recomputation must take the same path.
    """
    global _fusion_enabled
    previous, _fusion_enabled = _fusion_enabled, False
    try:
        yield
    finally:
        _fusion_enabled = previous


def can_fuse(x: Tensor, norm: Optional[nn.Module]) -> bool:
    """Whether the fused (recomputing) path applies.

    Only while gradients are recorded (otherwise nothing is stored and the
    plain path is as lean), for non-empty inputs and for ``nn.LayerNorm``
    (or no norm); also under autocast (see :func:`autocast_dtype`). The
    backward passes are once-differentiable (no double backward).
    """
    return (_fusion_enabled and x.numel() > 0 and torch.is_grad_enabled()
            and (norm is None or type(norm) is nn.LayerNorm))


def autocast_dtype(x: Tensor) -> Optional[torch.dtype]:
    """The dtype autocast gives matrix products on x's device, or None
    outside autocast (products then run in x's dtype)."""
    device = x.device.type
    if torch.is_autocast_enabled(device):
        return torch.get_autocast_dtype(device)
    return None


def chunk_rows(x: Tensor) -> int:
    """Tokens per chunk for tensors on x's device."""
    return CHUNK_ROWS if x.device.type == 'cpu' else ACCELERATOR_CHUNK_ROWS


def _norm_args(norm: Optional[nn.LayerNorm]) -> tuple:
    if norm is None:
        return None, None, None
    return norm.weight, norm.bias, norm.eps


def _layer_norm(x2: Tensor, w: Optional[Tensor], b: Optional[Tensor],
                eps: Optional[float]) -> Tuple[Tensor, Tensor, Tensor]:
    if eps is None:
        return x2, None, None
    return torch.native_layer_norm(x2, (x2.shape[-1], ), w, b, eps)


def _layer_norm_backward(grad_u: Tensor, x2: Tensor, mean: Tensor,
                         rstd: Tensor, w: Optional[Tensor],
                         b: Optional[Tensor], eps: Optional[float]) -> tuple:
    if eps is None:
        return grad_u, None, None
    return torch.ops.aten.native_layer_norm_backward(
        grad_u, x2, (x2.shape[-1], ), mean, rstd, w, b,
        [True, w is not None, b is not None])


def _cat_stats(stats: List[tuple], eps: Optional[float]) -> tuple:
    """Concatenate per-chunk LayerNorm (mean, rstd)."""
    if eps is None:
        return None, None
    return tuple(torch.cat(t) for t in zip(*stats))


def _accumulate(sums: List[Optional[Tensor]], parts: List[Tensor]) -> None:
    for acc, part in zip(sums, parts):
        if acc is not None:
            acc += part


def _low(t: Optional[Tensor], dtype: Optional[torch.dtype]) -> Tensor:
    """t in the product dtype (unchanged outside autocast)."""
    return t if dtype is None or t is None else t.to(dtype)


class _NormLinears(torch.autograd.Function):
    """``u = LN(x)`` and bias-free ``u @ W_i^T`` for the row blocks W_i,
    computed (and differentiated) :func:`chunk_rows` tokens at a time.

    ``dtype`` (autocast's, or None): the products run in it on copies of u
    and W and return it; u stays in x's dtype.
    """

    @staticmethod
    def forward(ctx, x: Tensor, ln_w: Optional[Tensor],
                ln_b: Optional[Tensor], eps: Optional[float], weight: Tensor,
                chunks: int, dtype: Optional[torch.dtype]
                ) -> Tuple[Tensor, ...]:
        with torch.autocast(x.device.type, enabled=False):
            x2 = x.reshape(-1, x.shape[-1])
            ws = _low(weight, dtype).chunk(chunks)
            # outputs are allocated in their final shape (not returned as
            # views, so callers may modify them in place) and filled
            # through 2-D views
            u = x.new_empty(x.shape)
            outs = [x.new_empty(*x.shape[:-1], w.shape[0], dtype=w.dtype)
                    for w in ws]
            u2 = u.view(x2.shape)
            outs2 = [o.view(x2.shape[0], w.shape[0])
                     for o, w in zip(outs, ws)]
            stats, step = [], chunk_rows(x2)
            for i in range(0, x2.shape[0], step):
                sl = slice(i, i + step)
                u_c, mean, rstd = _layer_norm(x2[sl], ln_w, ln_b, eps)
                stats.append((mean, rstd))
                u2[sl] = u_c
                u_c = _low(u_c, dtype)
                for w, out in zip(ws, outs2):
                    torch.mm(u_c, w.t(), out=out[sl])
        ctx.save_for_backward(x2, *_cat_stats(stats, eps), ln_w, ln_b,
                              weight)
        ctx.eps, ctx.chunks, ctx.shape = eps, chunks, x.shape
        ctx.dtype = dtype
        ctx.set_materialize_grads(False)
        return (u, *outs)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_u: Optional[Tensor], *grad_outs: Optional[Tensor]):
        x2, mean, rstd, ln_w, ln_b, weight = ctx.saved_tensors
        eps, dtype = ctx.eps, ctx.dtype
        if grad_u is None and all(g is None for g in grad_outs):
            return (None, ) * 7
        with torch.autocast(x2.device.type, enabled=False):
            grad_u = None if grad_u is None else \
                grad_u.reshape(x2.shape).to(x2.dtype)
            grad_outs = [None if g is None else g.reshape(-1, g.shape[-1])
                         for g in grad_outs]
            ws = _low(weight, dtype).chunk(ctx.chunks)
            grad_w = torch.zeros_like(weight)
            grad_x = torch.empty_like(x2)
            grad_ln = [None if t is None else torch.zeros_like(t)
                       for t in (ln_w, ln_b)]
            step = chunk_rows(x2)
            for i in range(0, x2.shape[0], step):
                sl = slice(i, i + step)
                u = _layer_norm(x2[sl], ln_w, ln_b, eps)[0]
                u_low = _low(u, dtype)
                acc = torch.zeros_like(u) if grad_u is None else \
                    grad_u[sl].clone()
                # low precision: the products of the blocks are summed in
                # the autocast dtype (as one Linear's input gradient would
                # be), then added to the float32 gradient once
                acc_low = None
                for g, w, gw in zip(grad_outs, ws,
                                    grad_w.chunk(ctx.chunks)):
                    if g is None:
                        continue
                    if dtype is None:
                        gw.addmm_(g[sl].t(), u)
                        acc.addmm_(g[sl], w)
                    else:
                        gw += torch.mm(g[sl].t(), u_low)
                        acc_low = torch.mm(g[sl], w) if acc_low is None \
                            else acc_low.addmm_(g[sl], w)
                if acc_low is not None:
                    acc += acc_low
                stat = (None, None) if eps is None else (mean[sl], rstd[sl])
                gx, *g_ln = _layer_norm_backward(acc, x2[sl], *stat, ln_w,
                                                 ln_b, eps)
                grad_x[sl] = gx
                _accumulate(grad_ln, g_ln)
        return grad_x.view(ctx.shape), *grad_ln, None, grad_w, None, None


class _NormGeluFFN(torch.autograd.Function):
    """``fc2(gelu(fc1(LN(x))))`` storing only x and the LN statistics.

    Forward and backward run over :func:`chunk_rows` tokens at a time: the
    hidden activations of a chunk stay in cache, and the weight gradients
    are accumulated chunk by chunk. With ``dtype`` (autocast's) the
    products, the activation and the output are in that dtype.
    """

    @staticmethod
    def forward(ctx, x: Tensor, ln_w: Optional[Tensor],
                ln_b: Optional[Tensor], eps: Optional[float], w1: Tensor,
                b1: Tensor, w2: Tensor, b2: Tensor,
                dtype: Optional[torch.dtype]) -> Tensor:
        with torch.autocast(x.device.type, enabled=False):
            x2 = x.reshape(-1, x.shape[-1])
            lw1, lb1, lw2, lb2 = (_low(t, dtype) for t in (w1, b1, w2, b2))
            y = x.new_empty(*x.shape[:-1], w2.shape[0], dtype=lw2.dtype)
            stats, step = [], chunk_rows(x2)
            for rows, out in zip(
                    x2.split(step),
                    y.view(x2.shape[0], w2.shape[0]).split(step)):
                u, mean, rstd = _layer_norm(rows, ln_w, ln_b, eps)
                stats.append((mean, rstd))
                torch.addmm(
                    lb2, F.gelu(torch.addmm(lb1, _low(u, dtype), lw1.t())),
                    lw2.t(), out=out)
        ctx.save_for_backward(x2, *_cat_stats(stats, eps), ln_w, ln_b, w1, b1,
                              w2)
        ctx.eps, ctx.shape, ctx.dtype = eps, x.shape, dtype
        return y

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_y: Tensor):
        x2, mean, rstd, ln_w, ln_b, w1, b1, w2 = ctx.saved_tensors
        eps, dtype = ctx.eps, ctx.dtype
        with torch.autocast(x2.device.type, enabled=False):
            grad_y = grad_y.reshape(-1, grad_y.shape[-1])
            grad_x = torch.empty_like(x2)
            grads = [torch.zeros_like(t) for t in (w1, b1, w2)]
            grad_w1, grad_b1, grad_w2 = grads
            grad_b2 = (grad_y if dtype is None else grad_y.float()).sum(0).to(
                w2.dtype)
            grad_ln = [None if t is None else torch.zeros_like(t)
                       for t in (ln_w, ln_b)]
            lw1, lb1, lw2 = (_low(t, dtype) for t in (w1, b1, w2))
            step = chunk_rows(x2)
            for i in range(0, x2.shape[0], step):
                sl = slice(i, i + step)
                stat = (None, None) if eps is None else (mean[sl], rstd[sl])
                u = _layer_norm(x2[sl], ln_w, ln_b, eps)[0]
                u_low = _low(u, dtype)
                h = torch.addmm(lb1, u_low, lw1.t())
                gy = grad_y[sl]
                grad_h = torch.ops.aten.gelu_backward(gy @ lw2, h)
                if dtype is None:
                    grad_w2.addmm_(gy.t(), F.gelu(h))
                    grad_w1.addmm_(grad_h.t(), u)
                    grad_b1 += grad_h.sum(0)
                    grad_u = grad_h @ w1
                else:
                    grad_w2 += torch.mm(gy.t(), F.gelu(h))
                    grad_w1 += torch.mm(grad_h.t(), u_low)
                    grad_b1 += grad_h.sum(0, dtype=torch.float32)
                    grad_u = (grad_h @ lw1).to(x2.dtype)
                gx, *g_ln = _layer_norm_backward(grad_u, x2[sl], *stat,
                                                 ln_w, ln_b, eps)
                grad_x[sl] = gx
                _accumulate(grad_ln, g_ln)
        return (grad_x.view(ctx.shape), *grad_ln, None, grad_w1, grad_b1,
                grad_w2, grad_b2, None)


def norm_linears(x: Tensor, norm: Optional[nn.LayerNorm], weight: Tensor,
                 chunks: int) -> List[Tensor]:
    """``[LN(x), LN(x) @ W_1^T, ..., LN(x) @ W_chunks^T]``, W = weight rows
    split into ``chunks`` blocks; LN(x) is recomputed in backward.

    Args:
        x (Tensor): (..., d).
        norm (nn.LayerNorm, optional): None = identity.
        weight (Tensor): (chunks * m, d) bias-free projection weight.
        chunks (int): Number of row blocks.

    Returns:
        list[Tensor]: LN(x) (..., d) and ``chunks`` tensors (..., m).
    """
    return list(
        _NormLinears.apply(x, *_norm_args(norm), weight, chunks,
                           autocast_dtype(x)))


def norm_gelu_ffn(x: Tensor, norm: Optional[nn.LayerNorm], fc1: nn.Linear,
                  fc2: nn.Linear) -> Tensor:
    """``fc2(GELU(fc1(LN(x))))`` (..., d) keeping only x for backward."""
    return _NormGeluFFN.apply(x, *_norm_args(norm), fc1.weight, fc1.bias,
                              fc2.weight, fc2.bias, autocast_dtype(x))

