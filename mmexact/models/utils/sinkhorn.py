# Copyright (c) mmexact contributors. All rights reserved.
from typing import Tuple

import torch
from torch import Tensor

__all__ = ['sinkhorn_knopp']


@torch.no_grad()
def sinkhorn_knopp(scores: Tensor,
                   epsilon: float = 0.05,
                   num_iters: int = 3,
                   max_exponent: float = 80.) -> Tuple[Tensor, Tensor]:
    """Equal-partition soft assignment of n samples to m clusters.

    ``Q = exp(scores / epsilon)^T`` (m x n) is normalised to sum 1, then
    ``num_iters`` times its rows are scaled to sum ``1/m`` and its columns
    to sum ``1/n``; the result is multiplied by n and transposed, so every
    sample's row sums to 1 and each cluster receives about n/m of the mass
    (exact-method.md §4.6). ``scores / epsilon`` is clamped to
    ``max_exponent`` (after subtracting the global maximum, which does not
    change the result) to avoid overflow with large raw scores.

    Args:
        scores (Tensor): Similarities (n, m).
        epsilon (float): Entropy regularisation. Defaults to 0.05.
        num_iters (int): Row/column normalisation rounds. Defaults to 3.
        max_exponent (float): Clamp for the exponent. Defaults to 80.

    Returns:
        tuple[Tensor, Tensor]: Soft assignment (n, m) with rows summing to
        1, and the hard assignment ``argmax`` per row (n,).
    """
    logits = scores.float() / epsilon
    logits = (logits - logits.max()).clamp(min=-max_exponent)
    q = torch.exp(logits).t()  # (m, n)
    q /= q.sum()
    m, n = q.shape
    for _ in range(num_iters):
        q /= q.sum(dim=1, keepdim=True)
        q /= m
        q /= q.sum(dim=0, keepdim=True)
        q /= n
    q = (q * n).t()
    return q, q.argmax(dim=1)
