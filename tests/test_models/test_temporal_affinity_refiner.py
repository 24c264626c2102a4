# Copyright (c) mmexact contributors. All rights reserved.
import math

import pytest
import torch

from mmexact.models import TemporalAffinityRefiner

# dilation-2 stencil without its centre, in the module's order
OFFSETS = [(-2, -2), (-2, 0), (-2, 2), (0, -2), (0, 2), (2, -2), (2, 0),
           (2, 2)]


def _features_5x5():
    """d = 2 features on a 5 x 5 grid (list [i][j] of 2-vectors)."""
    g = torch.Generator().manual_seed(3)
    v = (torch.rand(5, 5, 2, generator=g) * 2 - 1).tolist()
    # the four cells that make up the neighbourhood of cell (0, 0)
    v[0][0] = [1., 0.]
    v[0][2] = [0., 1.]
    v[2][0] = [1., 1.]
    v[2][2] = [-1., 0.]
    return v


def _loop_affinity(v, alpha=0.3):
    """a[i][j][q] with explicit loops (replicate padding = clamping)."""
    h, w, d = len(v), len(v[0]), len(v[0][0])
    aff = []
    for i in range(h):
        row = []
        for j in range(w):
            nbs = [v[min(max(i + di, 0), h - 1)][min(max(j + dj, 0), w - 1)]
                   for di, dj in OFFSETS]
            p = v[i][j]
            sims = []
            for q in nbs:
                dot = sum(a * b for a, b in zip(p, q))
                norm = math.sqrt(sum(a * a for a in p)) * math.sqrt(
                    sum(b * b for b in q))
                sims.append(dot / max(norm, 1e-8))
            stds = []
            for c in range(d):
                vals = [q[c] for q in nbs]
                mean = sum(vals) / len(vals)
                var = sum((x - mean)**2 for x in vals) / (len(vals) - 1)
                stds.append(math.sqrt(var))
            sigma = sum(stds) / d
            z = [s / ((sigma + 1e-8) * alpha) for s in sims]
            zmax = max(z)
            e = [math.exp(x - zmax) for x in z]
            row.append([x / sum(e) for x in e])
        aff.append(row)
    return aff


def _loop_propagate(m, aff, iters=3):
    h, w = len(m), len(m[0])
    for _ in range(iters):
        new = [[0.] * w for _ in range(h)]
        for i in range(h):
            for j in range(w):
                new[i][j] = sum(
                    a * m[min(max(i + di, 0), h - 1)][min(
                        max(j + dj, 0), w - 1)]
                    for a, (di, dj) in zip(aff[i][j], OFFSETS))
        m = new
    return m


def _as_tensor(v):
    """[i][j][c] lists -> (c, i, j) float32 tensor."""
    return torch.tensor(v, dtype=torch.float32).permute(2, 0, 1)


def test_hand_computed_affinity_of_one_cell():
    # Cell (0, 0), dilation 2, replicate padding: its 8 neighbours are
    #   (-2,-2)->(0,0) (-2,0)->(0,0) (-2,2)->(0,2) (0,-2)->(0,0)
    #   (0,2)->(0,2)   (2,-2)->(2,0) (2,0)->(2,0)  (2,2)->(2,2)
    # with v00 = (1, 0), v02 = (0, 1), v20 = (1, 1), v22 = (-1, 0):
    #   cosine to v00:  1, 1, 0, 1, 0, 1/sqrt2, 1/sqrt2, -1
    #   channel 0 values 1,1,0,1,0,1,1,-1: mean 1/2, unbiased var 4/7
    #   channel 1 values 0,0,1,0,1,1,1,0: mean 1/2, unbiased var 2/7
    #   sigma = (sqrt(4/7) + sqrt(2/7)) / 2 = 0.645226
    #   logits = cos / (0.3 sigma) = 5.166151 * cos
    #   exp: e^5.166 = 175.23 (x3), 1 (x2), e^3.653 = 38.59 (x2),
    #        e^-5.166 = 0.0057; sum = 605.0
    #   a = 0.289697 (v00 x3), 0.001653 (v02 x2), 0.063797 (v20 x2),
    #       9.43e-6 (v22)
    refiner = TemporalAffinityRefiner()
    feats = _as_tensor(_features_5x5())[None]
    aff = refiner.affinity(feats)
    assert aff.shape == (1, 8, 5, 5)
    expected = [0.289697, 0.289697, 0.001653, 0.289697, 0.001653, 0.063797,
                0.063797, 9.434e-6]
    assert aff[0, :, 0, 0].tolist() == pytest.approx(expected, abs=2e-6)
    assert torch.allclose(aff.sum(dim=1), torch.ones(1, 5, 5), atol=1e-6)


def test_matches_loop_reference_on_5x5():
    v = _features_5x5()
    g = torch.Generator().manual_seed(4)
    m = torch.rand(5, 5, generator=g)
    aff = _loop_affinity(v)
    expected = torch.tensor(_loop_propagate(m.tolist(), aff),
                            dtype=torch.float64)
    refiner = TemporalAffinityRefiner(dilations=(2, ), num_iters=3,
                                      alpha=0.3)
    feats = _as_tensor(v)
    out = refiner(feats, m)  # no leading dims
    assert out.shape == (5, 5)
    assert torch.allclose(out.double(), expected, atol=1e-5)
    loop_aff = torch.tensor(aff, dtype=torch.float64).permute(2, 0, 1)
    assert torch.allclose(refiner.affinity(feats[None])[0].double(),
                          loop_aff, atol=1e-5)
    # a single iteration too (the module does not just return the input)
    one = TemporalAffinityRefiner(num_iters=1)(feats, m)
    expected1 = torch.tensor(_loop_propagate(m.tolist(), aff, 1),
                             dtype=torch.float64)
    assert torch.allclose(one.double(), expected1, atol=1e-5)
    assert not torch.allclose(one, m, atol=1e-2)


def test_constant_map_is_fixed_point():
    g = torch.Generator().manual_seed(5)
    feats = torch.randn(3, 8, 12, 12, generator=g)
    maps = torch.full((3, 12, 12), 0.7)
    out = TemporalAffinityRefiner()(feats, maps)
    assert torch.allclose(out, maps, atol=1e-6)


def test_constant_features_give_uniform_affinity():
    # V constant over space: sigma = 0, all cosines 1 -> uniform 1/8
    vec = torch.tensor([1., -2., 3., .5])
    feats = vec[None, :, None, None].expand(1, 4, 6, 6)
    aff = TemporalAffinityRefiner().affinity(feats)
    assert torch.isfinite(aff).all()
    assert torch.allclose(aff, torch.full_like(aff, 1 / 8), atol=1e-6)


def test_batched_equals_per_map_calls():
    g = torch.Generator().manual_seed(6)
    refiner = TemporalAffinityRefiner()
    feats = torch.randn(2, 3, 5, 7, 6, generator=g)  # (B, K, d, h, w)
    maps = torch.rand(2, 3, 7, 6, generator=g)
    out = refiner(feats, maps)
    assert out.shape == (2, 3, 7, 6)
    for b in range(2):
        for k in range(3):
            single = refiner(feats[b, k], maps[b, k])
            assert torch.allclose(out[b, k], single, atol=1e-6)
    with pytest.raises(ValueError, match='do not match'):
        refiner(feats[:, :2], maps)


@pytest.mark.slow
def test_gradients_flow_to_features_and_maps():
    g = torch.Generator().manual_seed(7)
    feats = torch.randn(2, 3, 5, 5, generator=g, dtype=torch.float64)
    maps = torch.rand(2, 5, 5, generator=g, dtype=torch.float64)
    feats.requires_grad_(True)
    maps.requires_grad_(True)
    weights = torch.rand(2, 5, 5, generator=g, dtype=torch.float64)
    out = TemporalAffinityRefiner()(feats, maps)
    (out * weights).sum().backward()
    assert feats.grad is not None and maps.grad is not None
    assert feats.grad.abs().sum() > 0 and maps.grad.abs().sum() > 0
    assert torch.autograd.gradcheck(
        lambda f, m: TemporalAffinityRefiner()(f, m), (feats, maps))


def test_gradients_finite_where_neighbourhood_is_constant():
    """torch.std's gradient is NaN at zero spread; TAAP's is defined 0."""
    from mmexact.models.refiners import TemporalAffinityRefiner
    feats = torch.ones(1, 3, 5, 5)
    feats[0, 0, 0, 0] = 2.  # most neighbourhoods stay constant
    feats.requires_grad_()
    maps = torch.rand(1, 5, 5, requires_grad=True)
    TemporalAffinityRefiner()(feats[None], maps[None]).sum().backward()
    assert torch.isfinite(feats.grad).all() and torch.isfinite(maps.grad).all()


def test_neighbour_std_gradcheck():
    from mmexact.models.refiners.temporal_affinity_refiner import \
        _NeighbourStd
    from mmexact.models.refiners import TemporalAffinityRefiner
    r = TemporalAffinityRefiner()
    x = torch.randn(2, 3, 4, 4, dtype=torch.float64)
    xp = torch.nn.functional.pad(x, (2, 2, 2, 2), mode='replicate')
    xp.requires_grad_()
    slots = r._slots(4, 4)
    assert torch.autograd.gradcheck(
        lambda t: _NeighbourStd.apply(t, slots, 2), (xp, ))
    # forward equals torch.std over the stacked neighbours
    nb = torch.stack([xp[..., sy, sx] for sy, sx in slots], dim=2)
    ref = nb.std(dim=2, unbiased=True).mean(dim=1, keepdim=True)
    assert torch.allclose(_NeighbourStd.apply(xp, slots, 2), ref)
