# Copyright (c) mmexact contributors. All rights reserved.
import math

import pytest
import torch
import torch.nn.functional as F

from mmexact.exact import CBCAMHead, ClueContrastiveLoss

# K = 2 classes, N_p = 2 prototypes per class and polarity, d = 3, one
# image of N = 3 pixels. Prototypes are deliberately not unit-norm.
FG = [[(2., 0., 0.), (0., .5, 0.)],  # class 0
      [(0., 0., 1.), (-1., 0., 0.)]]  # class 1
BG = [[(1., 1., 0.), (-1., 0., 1.)],  # class 0
      [(0., -1., 0.), (.3, 0., 1.)]]  # class 1
# per-class pixel features (B=1, K=2, N=3, d=3), not unit-norm either
F0 = [(1., .2, .1), (.1, 1., .3), (.5, .5, .5)]
F1 = [(.3, -1., .2), (.2, .1, 1.), (-.4, .3, .8)]
# Normalised CAM (B, K, N) and labels (B, K): class 0 is present, pixels
# 0, 1 are its foreground (>= 0.4), pixel 2 (0.3) is neither fg nor bg.
# Class 1 is absent: no foreground pass although pixel 2 has CAM 1.0;
# pixels 0, 1 (< 0.2) are its background samples.
CAM = [[[1., .6, .3], [.1, .05, 1.]]]
LABELS = [[1., 0.]]
# Sinkhorn targets, by hand (scores = unit feature . raw prototype):
#   fg, class 0: p0 -> (1.952, 0.098), p1 -> (0.191, 0.477): j* = 0, 1
#   bg, class 1: p0 -> (0.941, 0.273), p1 -> (-0.098, 1.034): j* = 0, 1
# (each pixel prefers a different prototype, so balancing keeps it)
# Contrast targets among the 2 K N_p = 8 prototypes
# [fg00, fg01, fg10, fg11, bg00, bg01, bg10, bg11]:
#   fg pass: N_p * k + j* = 0, 1;  bg pass: K N_p + N_p k + j* = 6, 7
FG_TARGETS = [(0, 0), (1, 1)]  # (pixel, target) of class 0
BG_TARGETS = [(0, 6), (1, 7)]  # (pixel, target) of class 1


def _unit(v):
    n = math.sqrt(sum(a * a for a in v))
    return [a / n for a in v]


def _ce(x, bank, target, tau=0.1):
    """Cross-entropy of cosine / tau logits, plain Python."""
    x = _unit(x)
    z = [sum(a * b for a, b in zip(x, _unit(p))) / tau for p in bank]
    zmax = max(z)
    return zmax + math.log(sum(math.exp(v - zmax) for v in z)) - z[target]


def _bank(fg=FG, bg=BG):
    return [p for c in fg for p in c] + [p for c in bg for p in c]


def _inputs(requires_grad=False):
    feats = torch.tensor([[F0, F1]], requires_grad=requires_grad)
    fg = torch.tensor(FG, requires_grad=requires_grad)
    bg = torch.tensor(BG, requires_grad=requires_grad)
    return feats, torch.tensor(CAM), torch.tensor(LABELS), fg, bg


def _head(loss=None, **protos):
    """A CBCAMHead for K = 2, N_p = 2, d = 3 holding FG / BG.

    ``momentum=1`` by default: the momentum-updated foreground prototypes
    that the background pass sees are then FG normalised, which has the
    same cosines as FG, so the hand values below hold for both passes.
    """
    protos.setdefault('momentum', 1.)
    head = CBCAMHead(
        in_channels=3,
        num_classes=3,
        prototypes=dict(type='ExactClassPrototypes', **protos),
        loss_cbl=dict(type='ClueContrastiveLoss', **(loss or {})))
    with torch.no_grad():
        head.prototypes.fg.copy_(torch.tensor(FG))
        head.prototypes.bg.copy_(torch.tensor(BG))
    return head


def _step(head, feats=None, cam=None, labels=None):
    f, c, lab, _, _ = _inputs()
    return head.prototype_step(f if feats is None else feats,
                               c if cam is None else cam,
                               lab if labels is None else labels)


def _expected_parts(fg_in_bg_pass=FG):
    ce_fg = [_ce(F0[i], _bank(), t) for i, t in FG_TARGETS]
    ce_bg = [_ce(F1[i], _bank(fg_in_bg_pass), t) for i, t in BG_TARGETS]
    return sum(ce_fg) / len(ce_fg), sum(ce_bg) / len(ce_bg)


def test_loss_name_and_options():
    assert ClueContrastiveLoss().loss_name == 'loss_cbl'
    assert ClueContrastiveLoss(loss_name='loss_x').loss_name == 'loss_x'
    with pytest.raises(ValueError):
        ClueContrastiveLoss(class_average='none')
    with pytest.raises(ValueError, match='polarity'):
        ClueContrastiveLoss()(torch.ones(1, 3), torch.zeros(1).long(),
                              torch.zeros(1).long(), torch.ones(2, 2, 3),
                              torch.ones(2, 2, 3), 'both')


def test_targets_are_unambiguous():
    # the chosen target prototype gives a clearly lower CE than any other
    # (so a wrong target would be detected), e.g. pixel 0 of class 0:
    # cosines 0.976, 0.195, 0.098, -0.976, 0.830, -0.878, -0.195, 0.175
    # -> CE(target 0) = 0.208, the next best target (4) gives 1.686
    for feats, targets in ((F0, FG_TARGETS), (F1, BG_TARGETS)):
        for i, t in targets:
            ces = [_ce(feats[i], _bank(), j) for j in range(8)]
            assert min(c for j, c in enumerate(ces) if j != t) > ces[t] + .1
    assert _ce(F0[0], _bank(), 0) == pytest.approx(0.208, abs=1e-3)


def test_pure_loss_hand_computed():
    """The loss alone: given samples, targets and prototypes."""
    fg, bg = torch.tensor(FG), torch.tensor(BG)
    x = torch.tensor([F0[0], F0[1], F1[2]])
    classes = torch.tensor([0, 0, 1])
    targets = torch.tensor([0, 1, 1])
    ce = [_ce(F0[0], _bank(), 0), _ce(F0[1], _bank(), 1),
          _ce(F1[2], _bank(), 3)]
    loss = ClueContrastiveLoss()(x, classes, targets, fg, bg, 'fg')
    # per-class means (2 samples of class 0, 1 of class 1), summed, / K
    want = 0.01 * ((ce[0] + ce[1]) / 2 + ce[2]) / 2
    assert loss.item() == pytest.approx(want, rel=1e-5)
    loss = ClueContrastiveLoss()(x, classes, targets, fg, bg, 'bg',
                                 avg_factor=4)
    ce_bg = [_ce(F0[0], _bank(), 4), _ce(F0[1], _bank(), 5),
             _ce(F1[2], _bank(), 7)]
    want = 0.01 * ((ce_bg[0] + ce_bg[1]) / 2 + ce_bg[2]) / 2 / 4
    assert loss.item() == pytest.approx(want, rel=1e-5)
    # the inputs are only read
    assert torch.equal(fg, torch.tensor(FG))
    # no samples: 0, still connected to the features
    empty = torch.zeros(0, 3, requires_grad=True)
    none = ClueContrastiveLoss()(empty, classes[:0], targets[:0], fg, bg,
                                 'fg')
    assert none.item() == 0 and none.requires_grad


def test_hand_computed_loss():
    loss_fg, loss_bg = _expected_parts()
    # 'all': each pass divides by K = 2 (one class contributed to each)
    expected = 0.01 * (loss_fg / 2 + loss_bg / 2)
    assert _step(_head()).item() == pytest.approx(expected, rel=1e-5)
    # 'present': divided by the number of contributing classes (1 each)
    loss = _step(_head(loss=dict(class_average='present')))
    assert loss.item() == pytest.approx(0.01 * (loss_fg + loss_bg),
                                        rel=1e-5)
    # loss_weight scales linearly
    loss = _step(_head(loss=dict(loss_weight=0.5)))
    assert loss.item() == pytest.approx(0.5 * (loss_fg + loss_bg) / 2,
                                        rel=1e-5)
    # 'grad' prototypes are not modified by the step
    head = _head()
    _step(head)
    assert torch.equal(head.prototypes.fg.detach(), torch.tensor(FG))
    assert torch.equal(head.prototypes.bg.detach(), torch.tensor(BG))


def test_unlabelled_images_give_no_foreground():
    feats, cam, labels, fg, bg = _inputs()
    single = _step(_head())
    # a second image without class 0 but with a high class-0 CAM, and no
    # class-1 pixel below 0.2: it adds no sample to either pass
    feats2 = torch.cat([feats, torch.randn(1, 2, 3, 3)])
    cam2 = torch.cat([cam, torch.tensor([[[1., 1., .3], [.3, .3, .3]]])])
    labels2 = torch.cat([labels, torch.tensor([[0., 0.]])])
    double = _step(_head(), feats2, cam2, labels2)
    assert double.item() == pytest.approx(single.item(), rel=1e-6)


def _spy_update(head, record, replacement=None):
    """Record the statistics given to the prototypes' update."""
    update = head.prototypes.update

    def spy(polarity, stats):
        record.append((polarity, [(n.clone(), c.clone()) for n, c in stats]))
        out = update(polarity, stats)
        if polarity == 'fg' and replacement is not None:
            return [replacement] * len(stats)
        return out

    head.prototypes.update = spy


def test_empty_passes_give_zero():
    feats, cam, labels, fg, bg = _inputs()
    head = _head()
    calls = []
    _spy_update(head, calls)
    # no positive label and every CAM value in [0.2, 0.4): nothing at all,
    # but the update still runs once per polarity (with zero statistics),
    # so every DDP rank makes the same collective calls
    mid = torch.full_like(cam, 0.3)
    loss = _step(head, cam=mid, labels=torch.zeros(1, 2))
    assert loss.item() == 0 and torch.isfinite(loss)
    assert [c[0] for c in calls] == ['fg', 'bg']
    assert all(n.abs().sum() == 0 and c.abs().sum() == 0
               for _, stats in calls for n, c in stats)
    # labels present but every CAM below the foreground threshold and
    # above the background one
    loss = _step(_head(), cam=mid, labels=torch.ones(1, 2))
    assert loss.item() == 0 and torch.isfinite(loss)
    # no positive label: only the background pass contributes
    loss = _step(_head(), labels=torch.zeros(1, 2))
    _, loss_bg = _expected_parts()
    assert torch.isfinite(loss)
    assert loss.item() == pytest.approx(0.01 * loss_bg / 2, rel=1e-5)


def test_update_order_and_detached_fg_in_background_pass():
    # a replacement for the foreground prototypes returned by the update
    fg_new = [[(0., 1., 0.), (1., 0., 1.)], [(0., -1., 1.), (1., 1., 1.)]]
    replacement = torch.tensor(fg_new, requires_grad=True)
    head = _head()
    calls = []
    _spy_update(head, calls, replacement)
    feats, cam, labels, _, _ = _inputs(requires_grad=True)
    fg, bg = head.prototypes.fg, head.prototypes.bg
    loss = head.prototype_step(feats, cam, labels)
    assert [c[0] for c in calls] == ['fg', 'bg']
    loss_fg, loss_bg = _expected_parts(fg_in_bg_pass=fg_new)
    assert loss.item() == pytest.approx(0.01 * (loss_fg + loss_bg) / 2,
                                        rel=1e-5)
    assert loss_bg != pytest.approx(_expected_parts()[1], rel=1e-3)
    loss.backward()
    assert replacement.grad is None  # used detached

    # independent autograd reference: bg-pass gradients must not reach fg
    feats_r, _, _, fg_r, bg_r = _inputs(requires_grad=True)

    def ce(x, fg_bank, targets):
        bank = torch.cat([F.normalize(fg_bank, dim=-1).reshape(-1, 3),
                          F.normalize(bg_r, dim=-1).reshape(-1, 3)])
        logits = F.normalize(x, dim=-1) @ bank.t() / 0.1
        return F.cross_entropy(logits, torch.tensor(targets))

    ref = 0.01 * (ce(feats_r[0, 0, :2], fg_r, [0, 1]) / 2 +
                  ce(feats_r[0, 1, :2], replacement.detach(), [6, 7]) / 2)
    ref.backward()
    assert ref.item() == pytest.approx(loss.item(), rel=1e-5)
    for got, want in ((fg, fg_r), (bg, bg_r), (feats, feats_r)):
        assert torch.allclose(got.grad, want.grad, atol=1e-7)
    # fg of the absent class 1 only appears among the negatives
    assert fg.grad[1].abs().sum() > 0 and bg.grad[0].abs().sum() > 0


def _stats(head, feats=None):
    calls = []
    _spy_update(head, calls)
    _step(head, feats)
    return {polarity: stats[0] for polarity, stats in calls}


def test_momentum_statistics_argmax():
    feats, cam, labels, fg, bg = _inputs()
    x = F.normalize(feats[0], dim=-1)  # (K, N, d)
    calls = _stats(_head(assignment='argmax'))
    nums, counts = calls['fg']
    # fg, class 0: pixel 0 (m = 1.0) -> j 0, pixel 1 (m = 0.6) -> j 1
    assert torch.allclose(counts, torch.tensor([[1., .6], [0., 0.]]))
    expected = torch.zeros(2, 2, 3)
    expected[0, 0] = 1.0**2 * x[0, 0]
    expected[0, 1] = 0.6**2 * x[0, 1]
    assert torch.allclose(nums, expected, atol=1e-6)
    nums, counts = calls['bg']
    # bg, class 1: pixel 0 (m = 0.1) -> j 0, pixel 1 (m = 0.05) -> j 1
    assert torch.allclose(counts, torch.tensor([[0., 0.], [.1, .05]]))
    expected = torch.zeros(2, 2, 3)
    expected[1, 0] = 0.1**2 * x[1, 0]
    expected[1, 1] = 0.05**2 * x[1, 1]
    assert torch.allclose(nums, expected, atol=1e-7)
    # linear weighting switch
    nums, _ = _stats(_head(assignment='argmax', weight_power=1.))['fg']
    assert torch.allclose(nums[0, 1], 0.6 * x[0, 1], atol=1e-6)


def test_momentum_statistics_gumbel_are_one_hot():
    feats, cam, labels, fg, bg = _inputs()
    x = F.normalize(feats[0], dim=-1)
    for seed in range(5):
        torch.manual_seed(seed)
        calls = _stats(_head())
        # whatever the random sample, each pixel goes to one prototype
        nums, counts = calls['fg']
        assert counts.sum(dim=1).tolist() == pytest.approx([1.6, 0.])
        for c in counts[0].tolist():
            assert min(abs(c - v) for v in (0., .6, 1., 1.6)) < 1e-6
        assert torch.allclose(nums[0].sum(dim=0),
                              x[0, 0] + 0.36 * x[0, 1], atol=1e-6)
        nums, counts = calls['bg']
        assert counts.sum(dim=1).tolist() == pytest.approx([0., .15])
        assert torch.allclose(nums[1].sum(dim=0),
                              0.01 * x[1, 0] + 0.0025 * x[1, 1], atol=1e-7)


def test_sinkhorn_scores_use_raw_prototypes(monkeypatch):
    # exact-method.md §4.3 / §10 #7: R = X (P^polarity[k])^T with unit
    # features but the prototypes as stored (not normalised)
    import mmexact.exact.exact_class_prototypes as module
    seen = []
    original = module.sinkhorn_knopp_grouped

    def spy(scores, groups, num_groups, *args, **kwargs):
        seen.append((scores.clone(), groups.clone(), args))
        return original(scores, groups, num_groups, *args, **kwargs)

    monkeypatch.setattr(module, 'sinkhorn_knopp_grouped', spy)
    feats, cam, labels, fg, bg = _inputs()
    _step(_head(sinkhorn_eps=0.07, sinkhorn_iters=4))
    assert len(seen) == 2  # one grouped call per pass
    # fg pass: only class 0 has samples; bg pass: only class 1
    assert seen[0][1].tolist() == [0, 0] and seen[1][1].tolist() == [1, 1]
    x = F.normalize(feats[0], dim=-1)
    assert torch.allclose(seen[0][0], x[0, :2] @ fg[0].t(), atol=1e-6)
    assert torch.allclose(seen[1][0], x[1, :2] @ bg[1].t(), atol=1e-6)
    # e.g. pixel 0 of class 0: 2 * 0.9759 = 1.952 (cosine would be 0.976)
    assert seen[0][0][0, 0].item() == pytest.approx(1.9518, abs=1e-4)
    assert seen[0][2] == (0.07, 4)
