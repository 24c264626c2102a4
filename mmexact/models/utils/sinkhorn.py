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


@torch.no_grad()
def sinkhorn_knopp_grouped(scores: Tensor,
                           groups: Tensor,
                           num_groups: int,
                           epsilon: float = 0.05,
                           num_iters: int = 3,
                           max_exponent: float = 80.,
                           return_clamped: bool = False) -> Tuple:
    """:func:`sinkhorn_knopp` run independently on groups of samples.

    Equivalent to calling :func:`sinkhorn_knopp` on ``scores[groups == g]``
    for every group g (e.g. one group per class), in one batched pass with
    ``index_add`` instead of a Python loop.

    Args:
        scores (Tensor): Similarities (n, m).
        groups (Tensor): Group id of every sample (n,), long.
        num_groups (int): Number of groups G.
        epsilon (float): Entropy regularisation. Defaults to 0.05.
        num_iters (int): Normalisation rounds. Defaults to 3.
        max_exponent (float): Clamp for the exponent. Defaults to 80.
        return_clamped (bool): Also return the share of the scores whose
            exponent (``scores / epsilon`` minus the group's maximum) was
            clamped, i.e. whose weight the clamp raised above its true
            value. Defaults to False.

    Returns:
        tuple: Soft assignment (n, m), its row argmax (n,) and, with
        ``return_clamped``, the clamped share (0-d tensor).
    """
    logits = scores.float() / epsilon
    gmax = logits.new_full((num_groups, ), float('-inf')).scatter_reduce(
        0, groups, logits.max(dim=1)[0], 'amax')
    shifted = logits - gmax[groups, None]
    clamped = (shifted < -max_exponent).float().mean() \
        if return_clamped else None
    q = torch.exp(shifted.clamp(min=-max_exponent))
    m = q.shape[1]
    count = torch.bincount(groups, minlength=num_groups).to(q)
    total = q.new_zeros(num_groups).index_add_(0, groups, q.sum(dim=1))
    q = q / total[groups, None]
    for _ in range(num_iters):
        per_cluster = q.new_zeros(num_groups, m).index_add_(0, groups, q)
        q = q / per_cluster[groups] / m
        q = q / q.sum(dim=1, keepdim=True) / count[groups, None]
    q = q * count[groups, None]
    if return_clamped:
        return q, q.argmax(dim=1), clamped
    return q, q.argmax(dim=1)
