# Copyright (c) mmexact contributors. All rights reserved.
import copy

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from mmengine.structures import PixelData

import mmexact.exact  # noqa: F401  (Exact's components)
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

CFG = 'configs/_base_/models/exact_tsvit.py'
LOSS_KEYS = {
    'decode.loss_cls', 'decode.loss_aux', 'decode.loss_tap',
    'decode.loss_cbl', 'decode.proto_norm_fg', 'decode.proto_norm_bg',
    'decode.proto_clamp'
}



def _model_cfg(repo_root, head=None, **backbone):
    cfg = copy.deepcopy(Config.fromfile(f'{repo_root}/{CFG}').model)
    cfg.backbone.update(
        embed_dims=16, temporal_depth=1, spatial_depth=1, num_heads=2,
        head_dims=8, ffn_dims=32)
    cfg.backbone.update(backbone)
    cfg.decode_head.in_channels = 16
    for key, value in (head or {}).items():
        if isinstance(value, dict) and key in cfg.decode_head:
            cfg.decode_head[key].update(value)
        else:
            cfg.decode_head[key] = value
    return cfg


def _model(repo_root, head=None, seed=0, **backbone):
    torch.manual_seed(seed)
    return MODELS.build(_model_cfg(repo_root, head, **backbone))


def _label_map(classes, g, hw=24):
    """A label map with the crop classes (0-based) + background."""
    values = torch.tensor([0] + [c + 1 for c in classes])
    return values[torch.randint(0, len(values), (hw, hw), generator=g)]


def _batch(labels=((2, 5), (5, )), t=4, seed=0):
    """Raw data for ``data_preprocessor``: one sample per label tuple."""
    g = torch.Generator().manual_seed(seed)
    inputs, samples = [], []
    for classes in labels:
        x = torch.randn(t, 11, 24, 24, generator=g)
        days = torch.sort(torch.randperm(365, generator=g)[:t] + 1)[0]
        x[:, -1] = days.float()[:, None, None]
        s = SegDataSample()
        s.gt_sem_seg = PixelData(data=_label_map(classes, g)[None])
        cls = torch.zeros(18)
        cls[list(classes)] = 1
        s.set_field(cls, 'gt_cls_label')
        s.set_metainfo(dict(ori_shape=(24, 24), img_shape=(24, 24)))
        inputs.append(x)
        samples.append(s)
    return dict(inputs=inputs, data_samples=samples)


def _losses(model, data, seed=0, step=None):
    """Losses of one training step (at ``step`` if given)."""
    if step is not None:
        model.decode_head.set_train_step(step)
    torch.manual_seed(seed)  # Gumbel sampling in the prototype step
    data = model.data_preprocessor(copy.deepcopy(data), True)
    return model(**data, mode='loss')


def test_full_size_parameter_count(repo_root):
    cfg = Config.fromfile(f'{repo_root}/{CFG}')
    model = MODELS.build(cfg.model)
    assert sum(p.numel() for p in model.parameters()) == 3245442
    head = model.decode_head
    assert head.prototypes.fg.numel() + head.prototypes.bg.numel() == 9216
    # the reference's 365-wide date one-hot: 128 fewer
    cfg.model.backbone.doy_vocab = 365
    model = MODELS.build(cfg.model)
    assert sum(p.numel() for p in model.parameters()) == 3245314


def test_loss_keys_and_step_gate(repo_root):
    model = _model(repo_root)
    head = model.decode_head
    data = _batch()
    # without a runner the head counts its own steps, from 1
    assert head.train_step == 1 and not head.prototypes_active
    losses = _losses(model, data)
    assert head.train_step == 2
    assert set(losses) == LOSS_KEYS
    assert losses['decode.loss_cbl'].item() == 0
    losses = _losses(model, data, step=3999)  # no prototype learning yet
    assert set(losses) == LOSS_KEYS
    assert all(torch.isfinite(v) for v in losses.values())
    assert losses['decode.loss_cbl'].item() == 0
    assert losses['decode.loss_tap'].item() > 0
    assert head.train_step == 4000 and head.prototypes_active
    losses = _losses(model, data)  # step 4000: prototype learning starts
    assert set(losses) == LOSS_KEYS
    assert all(torch.isfinite(v) for v in losses.values())
    assert losses['decode.loss_cbl'].item() > 0
    # a short run counting its own steps reaches the warm-up by itself
    model = _model(repo_root, head=dict(proto_start_iter=3))
    cbl = [_losses(model, data)['decode.loss_cbl'].item() for _ in range(4)]
    assert cbl[:2] == [0, 0] and cbl[2] > 0 and cbl[3] > 0


def test_classification_and_tap_losses(repo_root):
    """exact-method.md §3.5, §6.3 recomputed from the head outputs with
    independent formulas (L_cbl against the official network: see
    test_golden_reference.py)."""
    model = _model(repo_root)
    head = model.decode_head
    # 4 images, 6 positive (image, class) pairs
    data = model.data_preprocessor(
        _batch(labels=((2, 5), (5, ), (), (0, 7, 9))), True)
    labels = torch.stack([s.gt_cls_label for s in data['data_samples']])
    head.set_train_step(1)
    losses = model(**copy.deepcopy(data), mode='loss')
    feats = model.extract_feat(data['inputs'])
    out = head.forward(feats)
    mlsm = F.multilabel_soft_margin_loss
    assert losses['decode.loss_cls'].item() == pytest.approx(
        mlsm(out['cls_logits'], labels).item(), rel=1e-6)
    assert losses['decode.loss_aux'].item() == pytest.approx(
        0.5 * (mlsm(out['spatial_logits'], labels) +
               mlsm(out['temporal_logits'], labels)).item(), rel=1e-6)
    # the auxiliary logits are the spatial means of the patch-head maps
    assert torch.allclose(out['temporal_logits'],
                          out['cam_temporal'].mean(dim=(-2, -1)), atol=1e-6)
    # L_tap: masked mean |M~ - M| over positive (b, k) and the 144 cells
    m = (out['cam_spatial'].relu() + out['cam_temporal'].relu()) / 2
    clue = head.temporal_clue(feats)
    tap = 0.
    for b in range(4):
        for k in range(18):
            if labels[b, k]:
                refined = (head.refiner(clue[b, k], m[b, k]) + m[b, k]) / 2
                tap = tap + (refined - m[b, k]).abs().sum()
    expected = 0.015 * tap / (labels.sum() * 144)
    assert losses['decode.loss_tap'].item() == pytest.approx(
        expected.item(), rel=1e-5)


def test_losses_configurable(repo_root):
    """The head's losses are built from the config."""
    model = _model(repo_root, head=dict(
        loss_cls=dict(type='CrossEntropyLoss', use_sigmoid=True,
                      avg_non_ignore=True, loss_weight=3.0,
                      loss_name='loss_global'),
        loss_aux=[
            dict(type='CrossEntropyLoss', use_sigmoid=True,
                 avg_non_ignore=True, loss_weight=0.5,
                 loss_name='loss_aux'),
            dict(type='CrossEntropyLoss', use_sigmoid=True,
                 avg_non_ignore=True, loss_weight=0.25,
                 loss_name='loss_aux2')
        ],
        loss_tap=dict(loss_weight=0.), loss_cbl=dict(loss_weight=0.5)))
    ref = _model(repo_root)
    data = _batch()
    out = _losses(model, data, step=4000)
    want = _losses(ref, data, step=4000)
    assert set(out) == {'decode.loss_global', 'decode.loss_aux',
                        'decode.loss_aux2', 'decode.loss_tap',
                        'decode.loss_cbl', 'decode.proto_norm_fg',
                        'decode.proto_norm_bg', 'decode.proto_clamp'}
    assert out['decode.loss_global'].item() == pytest.approx(
        3 * want['decode.loss_cls'].item(), rel=1e-6)
    assert out['decode.loss_aux2'].item() == pytest.approx(
        0.5 * want['decode.loss_aux'].item(), rel=1e-6)
    assert out['decode.loss_tap'].item() == 0
    assert out['decode.loss_cbl'].item() == pytest.approx(
        50 * want['decode.loss_cbl'].item(), rel=1e-5)


def test_grad_prototypes_gradient_after_warm_up(repo_root):
    model = _model(repo_root)
    head = model.decode_head
    protos = head.prototypes
    assert protos.mode == 'grad'
    data = _batch()
    # before the warm-up the prototypes take part with weight 0 (so DDP
    # needs no unused-parameter search): zero gradient, and they are
    # reported as inactive so the train-step hook drops it
    sum(_losses(model, data, step=3999).values()).backward()
    assert torch.equal(protos.fg.grad, torch.zeros_like(protos.fg))
    assert torch.equal(protos.bg.grad, torch.zeros_like(protos.bg))
    assert head.inactive_parameters() == [protos.fg, protos.bg]
    assert model.decode_head.cls_fc.weight.grad is not None
    model.zero_grad()
    sum(_losses(model, data, step=4000).values()).backward()
    assert protos.fg.grad.abs().sum() > 0 and protos.bg.grad.abs().sum() > 0
    assert head.inactive_parameters() == []


def test_ema_prototypes_follow_momentum_rule(repo_root):
    model = _model(repo_root, head=dict(prototypes=dict(mode='ema')))
    protos = model.decode_head.prototypes
    assert not any(p is protos.fg or p is protos.bg
                   for p in model.parameters())
    assert model.decode_head.inactive_parameters() == []
    fg0, bg0 = protos.fg.clone(), protos.bg.clone()
    stats = {}
    update = protos.update

    def spy(polarity, chunk_stats):
        stats[polarity] = [(n.clone(), c.clone()) for n, c in chunk_stats]
        return update(polarity, chunk_stats)

    protos.update = spy
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.5))
    model.decode_head.set_train_step(4500)
    torch.manual_seed(0)
    log = model.train_step(_batch(), optim)
    assert torch.isfinite(log['loss'])
    assert set(stats) == {'fg', 'bg'}
    for name, before in (('fg', fg0), ('bg', bg0)):
        nums = sum(n for n, _ in stats[name])
        counts = sum(c for _, c in stats[name])
        assert (counts != 0).any()
        raw = torch.where((counts != 0)[..., None],
                          0.999 * before + 0.001 * F.normalize(nums, dim=-1),
                          before)
        now = getattr(protos, name)
        assert torch.allclose(now, F.normalize(raw, dim=-1), atol=1e-6)
        assert torch.allclose(now.norm(dim=-1), torch.ones(18, 2),
                              atol=1e-5)
        assert now.grad is None and not now.requires_grad


def test_stage_one_uses_image_labels_only(repo_root):
    model = _model(repo_root)
    data = _batch(labels=((2, 5), (5, ), (0, 7, 9)))
    shuffled = copy.deepcopy(data)
    g = torch.Generator().manual_seed(11)
    for s in shuffled['data_samples']:
        seg = s.gt_sem_seg.data
        perm = torch.randperm(seg.numel(), generator=g)
        s.gt_sem_seg = PixelData(data=seg.flatten()[perm].view_as(seg))
    changed = sum((a.gt_sem_seg.data != b.gt_sem_seg.data).sum()
                  for a, b in zip(data['data_samples'],
                                  shuffled['data_samples']))
    assert changed > 1000
    ref = _losses(model, data, step=4100)
    out = _losses(model, shuffled, step=4100)
    # pixel labels dropped altogether: still the same
    for s in shuffled['data_samples']:
        del s.gt_sem_seg
    dropped = _losses(model, shuffled, step=4100)
    # ... whereas the image labels do matter
    other = copy.deepcopy(data)
    other['data_samples'][1].gt_cls_label[3] = 1
    moved = _losses(model, other, step=4100)
    for key in LOSS_KEYS:
        assert out[key].item() == ref[key].item(), key
        assert dropped[key].item() == ref[key].item(), key
    assert moved['decode.loss_cls'].item() != ref['decode.loss_cls'].item()


def _extract(model, data):
    data = model.data_preprocessor(copy.deepcopy(data), False)
    with torch.no_grad():
        return model.extract_feat(data['inputs']), data['data_samples']


def _fit_prototypes(model, data):
    """Prototypes that make every CB-CAM non-constant.

    Random tiny prototypes often give ``s_fg < s_bg`` everywhere (an
    all-zero CB-CAM). Here fg[k, :] = mean temporal feature direction mu_k
    of class k over the batch and bg[k, :] = -mu_k, so C = ReLU(2 cos(f,
    mu_k)), which varies over the cells.
    """
    feats, _ = _extract(model, data)
    f = F.normalize(feats['temporal_cls'], dim=-1)  # (B, N, K, d)
    mu = F.normalize(f.mean(dim=(0, 1)), dim=-1)  # (K, d)
    protos = model.decode_head.prototypes
    with torch.no_grad():
        protos.fg.copy_(mu[:, None].expand_as(protos.fg))
        protos.bg.copy_(-mu[:, None].expand_as(protos.bg))


def test_cb_cam_properties(repo_root):
    model = _model(repo_root).eval()
    head = model.decode_head
    data = _batch(labels=((2, 5), (5, ), (0, 7, 9)))
    _fit_prototypes(model, data)
    feats, samples = _extract(model, data)
    labels = torch.stack([s.gt_cls_label for s in samples])
    with torch.no_grad():
        raw = head.raw_cams(feats, head.forward(feats), labels)
        cams, probs = head.predict_cams(feats, samples)
    assert cams.shape == (3, 18, 12, 12) and probs.shape == (3, 18)
    assert (raw >= 0).all()
    assert (cams >= 0).all() and (cams <= 1).all()
    for b in range(3):
        for k in range(18):
            if labels[b, k] == 0:
                assert cams[b, k].abs().max() == 0
            else:
                assert raw[b, k].max() - raw[b, k].min() > 1e-3
                assert cams[b, k].min().item() == 0
                assert cams[b, k].max().item() == pytest.approx(1, abs=1e-5)
    # §6.2: only classes present in the batch are refined, the others get
    # a zero map
    with torch.no_grad():
        clue = head.temporal_clue(feats)
        maps = torch.rand(
            3, 18, 12, 12, generator=torch.Generator().manual_seed(0))
        refined = head.refine(clue, maps, labels)
    for k in range(18):
        if labels[:, k].any():
            want = head.refiner(clue[:, k], maps[:, k])
            assert torch.allclose(refined[:, k], want, atol=1e-6)
        else:
            assert refined[:, k].abs().max() == 0
    # CB-CAM by hand: ReLU(max_j cos(f, fg_kj) - max_j cos(f, bg_kj))
    f = F.normalize(feats['temporal_cls'][0, :, 2], dim=-1)  # (N, d), k=2
    fg, bg = (F.normalize(p[2], dim=-1)
              for p in (head.prototypes.fg, head.prototypes.bg))
    c = ((f @ fg.t()).max(-1)[0] - (f @ bg.t()).max(-1)[0]).relu()
    c = c.view(1, 12, 12)
    with torch.no_grad():
        clue = head.temporal_clue(feats)[0, 2]
        want = (c + head.refiner(clue[None], c))[0] / 2
    assert torch.allclose(raw[0, 2], want, atol=1e-6)
    # batch composition does not change an image's CB-CAM
    alone, _ = _extract(model, dict(inputs=data['inputs'][:1],
                                    data_samples=data['data_samples'][:1]))
    with torch.no_grad():
        cams1, _ = head.predict_cams(alone, samples[:1])
    assert torch.allclose(cams1[0], cams[0], atol=1e-5)


def _predict(model, data):
    data = model.data_preprocessor(copy.deepcopy(data), False)
    with torch.no_grad():
        return model(**data, mode='predict')


def _force_classifier(model, bias):
    with torch.no_grad():
        model.decode_head.cls_fc.weight.zero_()
        model.decode_head.cls_fc.bias.fill_(bias)


def test_cam_gating_through_segmentor_predict(repo_root):
    labels = ((2, 5), (5, ), (0, 7, 9))
    data = _batch(labels=labels)
    allowed = [{0} | {c + 1 for c in classes} for classes in labels]
    # 'gt': the samples' image labels, whatever the classifier says
    model = _model(repo_root).eval()
    _fit_prototypes(model, data)
    _force_classifier(model, -100.)
    results = _predict(model, data)
    fg_seen = set()
    for res, ok, classes in zip(results, allowed, labels):
        values = set(res.pred_sem_seg.data.unique().tolist())
        assert values <= ok
        fg_seen |= values - {0}
        assert res.seg_logits.data.shape == (19, 24, 24)
        assert torch.all(res.seg_logits.data[0] == 0.35)
        absent = [k for k in range(18) if k not in classes]
        assert res.seg_logits.data[[k + 1 for k in absent]].abs().max() == 0
        assert torch.allclose(res.pred_score, torch.zeros(18))
        want = torch.zeros(18)
        want[list(classes)] = 1
        assert torch.equal(res.gt_score, want)
    assert fg_seen  # the gated CAMs do produce foreground
    # 'pred' with every class predicted negative: background only
    model = _model(repo_root, head=dict(cam_gating='pred')).eval()
    _fit_prototypes(model, data)
    _force_classifier(model, -100.)
    for res in _predict(model, data):
        assert res.pred_sem_seg.data.unique().tolist() == [0]
        assert res.seg_logits.data[1:].abs().max() == 0
        assert 'gt_score' in res and 'pred_score' in res
    # 'pred' with every class predicted positive: all 18 CAMs, including
    # classes the image labels do not have
    _force_classifier(model, 100.)
    outside = set()
    for res, ok in zip(_predict(model, data), allowed):
        assert torch.equal(res.pred_score, torch.ones(18))
        maxima = res.seg_logits.data[1:].flatten(1).max(dim=1)[0]
        assert (maxima > 0.5).all()
        outside |= set(res.pred_sem_seg.data.unique().tolist()) - ok
    assert outside
    # 'gt' without image labels in the samples falls back to predictions
    model = _model(repo_root).eval()
    _force_classifier(model, -100.)
    bare = copy.deepcopy(data)
    for s in bare['data_samples']:
        s.pop('gt_cls_label')
    for res in _predict(model, bare):
        assert res.pred_sem_seg.data.unique().tolist() == [0]
        assert 'gt_score' not in res


def test_temporal_clue_ignores_padding(repo_root):
    data = _batch(labels=((2, 5), ), t=4, seed=3)
    padded = copy.deepcopy(data)
    x = padded['inputs'][0]
    padded['inputs'][0] = torch.cat([x, torch.zeros(3, *x.shape[1:])])
    for mask, same in ((True, True), (False, False)):
        model = _model(repo_root, mask_padded_frames=mask).eval()
        head = model.decode_head
        f4, samples = _extract(model, data)
        f7, _ = _extract(model, padded)
        assert f4['temporal_seq'].shape[2] == 4
        assert f7['temporal_seq'].shape[2] == 7
        with torch.no_grad():
            v4, v7 = head.temporal_clue(f4), head.temporal_clue(f7)
            c4, _ = head.predict_cams(f4, samples)
            c7, _ = head.predict_cams(f7, samples)
        assert v4.shape == (1, 18, 16, 12, 12)
        assert torch.allclose(v4, v7, atol=1e-5) == same
        assert torch.allclose(c4, c7, atol=1e-5) == same
    # V is the softmax-weighted mean of the valid frames (masking) or of
    # all frames, padded ones included (reference, no masking)
    for mask, frames in ((True, 4), (False, 7)):
        model = _model(repo_root, mask_padded_frames=mask).eval()
        f7, _ = _extract(model, padded)
        attn = f7['temporal_attention'][0, :, :frames]  # (K, frames)
        seq = f7['temporal_seq'][0, :, :frames]  # (N, frames, d)
        v = torch.einsum('kt,ntd->knd', attn.softmax(dim=-1), seq)
        with torch.no_grad():
            got = model.decode_head.temporal_clue(f7)[0].flatten(2)
        assert torch.allclose(got, v.permute(0, 2, 1), atol=1e-6)


@pytest.mark.slow
def test_chunk_size(repo_root):
    head = dict(prototypes=dict(assignment='argmax'))
    one = _model(repo_root, head=dict(head, chunk_size=None))
    two = _model(repo_root, head=dict(head, chunk_size=2))
    three = _model(repo_root, head=dict(head, chunk_size=3))
    two.load_state_dict(one.state_dict())
    three.load_state_dict(one.state_dict())
    assert two.decode_head.chunks(5) == [slice(0, 2), slice(2, 4),
                                         slice(4, 5)]
    assert one.decode_head.chunks(5) == [slice(0, 5)]
    same = ((2, 5), ) * 4
    mixed = ((2, 5), (5, ), (0, 7), (9, ))
    for labels in (same, mixed):
        data = _batch(labels=labels)
        ref = _losses(one, data, step=4000)
        for model in (two, three):
            out = _losses(model, data, step=4000)
            assert set(out) == LOSS_KEYS
            assert torch.isfinite(out['decode.loss_cbl'])
            # TAAP and the classification losses are per (image, class):
            # chunking cannot change them
            for key in ('decode.loss_tap', 'decode.loss_cls',
                        'decode.loss_aux'):
                assert out[key].item() == pytest.approx(
                    ref[key].item(), rel=1e-6, abs=1e-9), key
        # the prototype step does see the chunks
        assert out['decode.loss_cbl'].item() != pytest.approx(
            ref['decode.loss_cbl'].item(), rel=1e-4)
    # four copies of one image: each chunk holds duplicates of the same
    # samples, and Sinkhorn, the CE means and the direction of the
    # momentum numerators are invariant to duplication
    data = _batch(labels=same)
    data['inputs'] = [data['inputs'][0].clone() for _ in range(4)]
    ref = _losses(one, data, step=4000)
    out = _losses(two, data, step=4000)
    assert out['decode.loss_cbl'].item() == pytest.approx(
        ref['decode.loss_cbl'].item(), rel=1e-5)
    assert out['decode.loss_tap'].item() == pytest.approx(
        ref['decode.loss_tap'].item(), rel=1e-6)


def test_chunk_average_class(repo_root):
    """``chunk_average='class'``: each class's CE is averaged over the
    chunks that hold it (then summed over classes, / K); ``'chunk'``
    averages each chunk's ``sum_k CE_k / K`` over all chunks.

    The expected values are recomputed from the samples each chunk passed
    to the loss, one class at a time."""
    mixed = ((2, 5), (5, ), (0, 7), (9, ))
    data = _batch(labels=mixed)
    got = {}
    for average in ('chunk', 'class'):
        model = _model(repo_root, head=dict(
            prototypes=dict(assignment='argmax'), chunk_size=1,
            chunk_average=average))
        head = model.decode_head
        calls = []
        loss_fn = head.loss_cbl.forward

        def spy(x, ki, targets, fg, bg, polarity, avg_factor=None):
            calls.append((x.detach(), ki, targets, fg.detach(),
                          bg.detach(), polarity))
            return loss_fn(x, ki, targets, fg, bg, polarity, avg_factor)

        head.loss_cbl.forward = spy
        got[average] = _losses(model, data, step=4000)[
            'decode.loss_cbl'].item()
        expected = 0.
        for polarity in ('fg', 'bg'):
            mine = [c for c in calls if c[5] == polarity]
            assert len(mine) == 4  # one call per chunk
            per_class = {}
            for x, ki, targets, fg, bg, _ in mine:
                for k in ki.unique().tolist():
                    m = ki == k
                    # loss of this chunk's class-k samples alone: CE_k / K
                    per_class.setdefault(k, []).append(loss_fn(
                        x[m], ki[m], targets[m], fg, bg, polarity).item())
            if average == 'class':
                expected += sum(sum(v) / len(v) for v in per_class.values())
            else:
                expected += sum(sum(v) for v in per_class.values()) / 4
        assert got[average] == pytest.approx(expected, rel=1e-5), average
        # the foreground classes: 2 and 0, 7, 9 in one chunk each, 5 in two
        fg_classes = sorted(
            k for c in calls if c[5] == 'fg' for k in c[1].unique().tolist())
        assert fg_classes == [0, 2, 5, 5, 7, 9]
    # single-chunk classes keep their weight: a larger loss than 'chunk'
    assert got['class'] > got['chunk'] * 1.1
    with pytest.raises(ValueError, match='chunk_average'):
        _model(repo_root, head=dict(chunk_average='mean'))


def test_schedule_check(repo_root):
    head = _model(repo_root).decode_head  # warm-up at step 4000
    ok = dict(last_step=15200, checkpoint_steps=[1000 * i
                                                 for i in range(1, 16)])
    head.check_train_schedule(ok)
    with pytest.raises(ValueError, match='prototype learning starts at step '
                       '4000.*training ends at step 1900'):
        head.check_train_schedule(dict(last_step=1900,
                                       checkpoint_steps=[1000, 1900]))
    # one checkpoint kept after the warm-up (e.g. max_keep_ckpts=1)
    with pytest.raises(ValueError, match='only 1 kept checkpoint'):
        head.check_train_schedule(dict(last_step=15200,
                                       checkpoint_steps=[15200]))
    head.check_train_schedule(dict(last_step=15200,
                                   checkpoint_steps=[4000, 15200]))
