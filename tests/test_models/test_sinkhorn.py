# Copyright (c) mmexact contributors. All rights reserved.
import math
from fractions import Fraction

import torch
import torch.nn.functional as F

from mmexact.models.utils import sinkhorn_knopp


def _reference(scores, epsilon=0.05, num_iters=3):
    """Sinkhorn-Knopp of exact-method.md §4.6 with Python floats."""
    n, m = len(scores), len(scores[0])
    # q[j][i]: cluster j, sample i (the transposed exp(R / eps))
    q = [[math.exp(scores[i][j] / epsilon) for i in range(n)]
         for j in range(m)]
    total = sum(map(sum, q))
    q = [[v / total for v in row] for row in q]
    for _ in range(num_iters):
        q = [[v / sum(row) / m for v in row] for row in q]
        cols = [sum(q[j][i] for j in range(m)) for i in range(n)]
        q = [[q[j][i] / cols[i] / n for i in range(n)] for j in range(m)]
    return [[q[j][i] * n for j in range(m)] for i in range(n)]


def test_hand_computed_2x2():
    # R = eps * log([[3, 1], [1, 1]]) makes exp(R / eps) = [[3, 1], [1, 1]]
    # (symmetric, so Q = exp(R / eps)^T is the same matrix). By hand,
    # alternately scaling rows (clusters) to 1/2 and columns (samples)
    # to 1/2 gives after the three rounds (clusters x samples):
    #   [[45/142, 15/82], [26/142, 26/82]]
    # and after "* n, transpose" sample 0 -> (45/71, 26/71) and
    # sample 1 -> (15/41, 26/41).
    scores = 0.05 * torch.log(torch.tensor([[3., 1.], [1., 1.]]))
    q, hard = sinkhorn_knopp(scores)
    expected = torch.tensor([[45 / 71, 26 / 71], [15 / 41, 26 / 41]])
    assert torch.allclose(q, expected, atol=1e-6)
    assert hard.tolist() == [0, 1]
    # the same with exact rational arithmetic, as a cross-check
    k = [[Fraction(3), Fraction(1)], [Fraction(1), Fraction(1)]]
    s = sum(map(sum, k))
    k = [[v / s for v in row] for row in k]
    for _ in range(3):
        k = [[v / sum(row) / 2 for v in row] for row in k]
        cols = [k[0][i] + k[1][i] for i in range(2)]
        k = [[k[j][i] / cols[i] / 2 for i in range(2)] for j in range(2)]
    assert k[0][0] * 2 == Fraction(45, 71)
    assert k[0][1] * 2 == Fraction(15, 41)
    # column sums: 45/71 + 15/41 = 2910/2911, close to n / m = 1 but not
    # exact after three rounds
    assert abs(q[:, 0].sum().item() - 2910 / 2911) < 1e-6


def test_matches_reference_and_rows_sum_to_one():
    g = torch.Generator().manual_seed(0)
    x = F.normalize(torch.randn(7, 4, generator=g), dim=1)
    p = torch.randn(3, 4, generator=g) * 0.3
    scores = x @ p.t()
    q, hard = sinkhorn_knopp(scores)
    ref = torch.tensor(_reference(scores.double().tolist()),
                       dtype=torch.float64)
    assert q.shape == (7, 3) and q.dtype == torch.float32
    assert torch.allclose(q.double(), ref, atol=1e-5)
    assert torch.allclose(q.sum(dim=1), torch.ones(7), atol=1e-6)
    assert torch.equal(hard, q.argmax(dim=1))
    assert torch.equal(hard, ref.argmax(dim=1))
    # other eps / iteration counts
    q5, _ = sinkhorn_knopp(scores, epsilon=0.2, num_iters=5)
    ref5 = torch.tensor(
        _reference(scores.double().tolist(), 0.2, 5), dtype=torch.float64)
    assert torch.allclose(q5.double(), ref5, atol=1e-5)


def test_column_sums_equal_partition():
    g = torch.Generator().manual_seed(1)
    n, m = 64, 2
    # Mild scores (range <= eps): the kernel exp(R / eps) has a Hilbert
    # projective diameter of at most 2, so every half step contracts the
    # deviation from the equal partition by tanh(2 / 4) < 0.47 (Birkhoff);
    # after 3 rounds it is far below 1 % (observed ~1e-5).
    for _ in range(5):
        scores = torch.rand(n, m, generator=g) * 0.05
        q, _ = sinkhorn_knopp(scores)
        assert torch.allclose(q.sum(dim=1), torch.ones(n), atol=1e-6)
        assert torch.allclose(q.sum(dim=0), torch.full((m, ), n / m),
                              rtol=1e-2)
    # Realistic cosine scores (range ~1.5 / eps = 30): three rounds are
    # only approximate, but the iteration converges to the equal partition.
    x = F.normalize(torch.randn(40, 8, generator=g), dim=1)
    p = F.normalize(torch.randn(3, 8, generator=g), dim=1)
    scores = x @ p.t()
    dev = []
    for iters in (3, 10, 200):
        q, _ = sinkhorn_knopp(scores, num_iters=iters)
        assert torch.allclose(q.sum(dim=1), torch.ones(40), atol=1e-5)
        dev.append((q.sum(dim=0) - 40 / 3).abs().max().item())
    assert dev[0] > dev[1] > dev[2]
    assert dev[2] < 1e-3 * 40 / 3


def test_balancing_changes_the_argmax():
    # three samples all prefer cluster 0; the equal-partition constraint
    # moves the least committed one (the last) to cluster 1
    scores = torch.tensor([[1.0, 0.0], [0.9, 0.0], [0.2, 0.1]])
    q, hard = sinkhorn_knopp(scores, num_iters=10)
    assert scores.argmax(dim=1).tolist() == [0, 0, 0]
    assert hard.tolist() == [0, 0, 1]
    assert torch.allclose(q.sum(dim=1), torch.ones(3), atol=1e-6)


def test_no_overflow_with_huge_scores():
    g = torch.Generator().manual_seed(2)
    scores = torch.randn(16, 2, generator=g) * 1e4
    assert torch.isinf(torch.exp(scores / 0.05)).any()  # naive overflow
    q, hard = sinkhorn_knopp(scores)
    assert torch.isfinite(q).all()
    assert (q >= 0).all()
    assert torch.allclose(q.sum(dim=1), torch.ones(16), atol=1e-5)
    assert torch.equal(hard, q.argmax(dim=1))
    # a cluster that everybody rejects by 2e4 (exponent -4e5 underflows
    # to 0 without the clamp, which would give 0 / 0): identical samples
    # must split evenly
    hi, lo = torch.full((8, ), 1e4), torch.full((8, ), -1e4)
    scores = torch.stack([hi, lo], dim=1)
    q, hard = sinkhorn_knopp(scores)
    assert torch.isfinite(q).all()
    assert torch.allclose(q, torch.full((8, 2), 0.5), atol=1e-6)
    # half precision input is computed in float32
    q16, _ = sinkhorn_knopp(scores.half())
    assert q16.dtype == torch.float32 and torch.isfinite(q16).all()


def test_no_gradient():
    scores = torch.randn(5, 2, requires_grad=True)
    q, _ = sinkhorn_knopp(scores)
    assert not q.requires_grad
