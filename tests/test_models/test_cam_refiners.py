# Copyright (c) mmexact contributors. All rights reserved.
"""PAMR, and CAM refiners (PAMR, TAAP) plugged after the vanilla CAM head."""
import copy
import math

import pytest
import torch
from mmengine.config import Config
from mmengine.structures import PixelData

from mmexact.models.refiners import PAMR, TemporalAffinityRefiner
from mmexact.models.utils import minmax_normalize_cams, upsample_cams
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

CAM_CFG = 'configs/cam/cam_tsvit_1xb16-8e_demo-24x24.py'


def test_pamr_affinity_of_the_centre_pixel_by_hand():
    guide = torch.tensor([[1., 2., 3.], [4., 5., 6.], [7., 8., 20.]])
    aff = PAMR(dilations=(1, )).affinity(guide[None, None])[0, :, 1, 1]
    # the 8 neighbours of the centre (5), row-major without the centre
    nb = torch.tensor([1., 2., 3., 4., 6., 7., 8., 20.])
    sigma = nb.std()  # unbiased, over the neighbours
    expected = torch.softmax(-(5 - nb).abs() / (0.1 * sigma), dim=0)
    torch.testing.assert_close(aff, expected)


def test_pamr_one_step_and_fixed_point():
    g = torch.Generator().manual_seed(0)
    guide = torch.randn(2, 3, 5, 5, generator=g)
    maps = torch.rand(2, 4, 5, 5, generator=g)
    pamr = PAMR(dilations=(1, ), num_iters=1)
    aff = pamr.affinity(guide)
    assert aff.shape == (2, 8, 5, 5)
    torch.testing.assert_close(aff.sum(dim=1), torch.ones(2, 5, 5))
    out = pamr(guide, maps)
    # the centre pixel (2, 2): weighted sum of its 8 neighbours
    offsets = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)
               if (dy, dx) != (0, 0)]
    hand = sum(aff[:, j, 2, 2, None] * maps[:, :, 2 + dy, 2 + dx]
               for j, (dy, dx) in enumerate(offsets))
    torch.testing.assert_close(out[:, :, 2, 2], hand)
    const = torch.full((2, 4, 5, 5), 0.7)
    torch.testing.assert_close(PAMR()(guide, const), const)


def test_pamr_keeps_masks_inside_guide_edges():
    """A mask on the left half does not leak across a guide edge, while a
    flat guide spreads it."""
    maps = torch.zeros(1, 1, 8, 8)
    maps[..., :4] = 1
    edge = torch.zeros(1, 1, 8, 8)
    edge[..., 4:] = 10.
    g = torch.Generator().manual_seed(1)
    edge = edge + 0.01 * torch.randn(1, 1, 8, 8, generator=g)
    flat = torch.zeros(1, 1, 8, 8)
    pamr = PAMR(dilations=(1, 2), num_iters=10)
    right_edge = pamr(edge, maps)[..., 4:].max().item()
    right_flat = pamr(flat, maps)[..., 4:].max().item()
    assert right_edge < 1e-3
    assert right_flat > 0.3


def test_pamr_shape_errors():
    with pytest.raises(ValueError, match='same N, H, W'):
        PAMR()(torch.zeros(1, 3, 8, 8), torch.zeros(1, 2, 4, 4))
    with pytest.raises(ValueError, match='dilations'):
        PAMR(dilations=(0, ))


# ---------------------------------------------------------------------------
def _cam_model(repo_root, head=None, **backbone):
    cfg = copy.deepcopy(Config.fromfile(f'{repo_root}/{CAM_CFG}').model)
    cfg.backbone.update(embed_dims=16, temporal_depth=1, spatial_depth=1,
                        num_heads=2, head_dims=8, ffn_dims=32,
                        mask_padded_frames=True)
    cfg.backbone.update(backbone)
    cfg.decode_head.in_channels = 16
    cfg.decode_head.update(head or {})
    torch.manual_seed(0)
    return MODELS.build(cfg).eval()


def _inputs(t=5, pad=0, b=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(b, t, 11, 24, 24, generator=g)
    x[:, :, -1] = (torch.arange(t).float() * 30 + 20)[None, :, None, None]
    if pad:
        x = torch.cat([x, torch.zeros(b, pad, 11, 24, 24)], dim=1)
    samples = []
    for i in range(b):
        s = SegDataSample()
        s.gt_sem_seg = PixelData(data=torch.zeros(1, 24, 24).long())
        cls = torch.zeros(18)
        cls[[1, 4 + i]] = 1
        s.set_field(cls, 'gt_cls_label')
        samples.append(s)
    return x, samples


def test_taap_on_vanilla_cams_is_exacts_refinement(repo_root):
    taap = dict(type='TemporalAffinityRefiner', dilations=(2, ),
                num_iters=3, alpha=0.3)
    model = _cam_model(repo_root, dict(cam_refiner=taap,
                                       cam_refiner_guide='temporal_clue'),
                       with_temporal_attention=True)
    head = model.decode_head
    x, samples = _inputs()
    with torch.no_grad():
        feats = model.extract_feat(x)
        cams, _ = head.predict_cams(feats, samples)
        outputs = head.forward(feats)
        raw = head.fusion_cam(outputs)
        clue = head.temporal_clue(feats)
        present = [1, 4, 5]
        manual = raw.clone()
        manual[:, present] = (raw[:, present] + TemporalAffinityRefiner(
            (2, ), 3, 0.3)(clue[:, present], raw[:, present])) / 2
        labels = torch.stack([s.gt_cls_label for s in samples])
        flat = manual.flatten(2)
        lo, hi = flat.min(-1, keepdim=True)[0], flat.max(-1, keepdim=True)[0]
        expected = ((flat - lo) / (hi - lo + 1e-8)).view_as(manual) * \
            labels[..., None, None]
    assert cams.shape == (2, 18, 12, 12)
    torch.testing.assert_close(cams, expected)
    plain = _cam_model(repo_root, with_temporal_attention=True)
    with torch.no_grad():
        unrefined, _ = plain.decode_head.predict_cams(
            plain.extract_feat(x), samples)
    assert not torch.allclose(cams, unrefined, atol=1e-3)


@pytest.mark.parametrize('guide', ['bands', 'bands_mean'])
def test_pamr_on_vanilla_cams_pixel_level_and_padding_free(repo_root, guide):
    pamr = dict(type='PAMR', dilations=(1, 2), num_iters=10)
    model = _cam_model(repo_root, dict(cam_refiner=pamr,
                                       cam_refiner_guide=guide,
                                       cam_refiner_mix=1.0))
    head = model.decode_head
    x, samples = _inputs()
    x[1, 3:] = 0  # sample 1 has 3 valid dates, sample 0 has 5
    with torch.no_grad():
        feats = model.extract_feat(x)
        cams, _ = head.predict_cams(feats, samples)
        padded, _ = head.predict_cams(
            model.extract_feat(torch.cat([x, torch.zeros_like(x[:, :2])], 1)),
            samples)
        raw = upsample_cams(head.fusion_cam(head.forward(feats)), (24, 24))
        bands = x[1, :3, :-1]  # the valid dates of sample 1
        g1 = bands.flatten(0, 1)[None] if guide == 'bands' else \
            bands.mean(0)[None]
        ref1 = PAMR((1, 2), 10)(g1, raw[1:, [1, 5]])
    assert cams.shape == (2, 18, 24, 24)  # refined at pixel level
    torch.testing.assert_close(padded, cams)
    flat = ref1.flatten(2)
    lo, hi = flat.min(-1, keepdim=True)[0], flat.max(-1, keepdim=True)[0]
    torch.testing.assert_close(
        cams[1, [1, 5]], ((flat - lo) / (hi - lo + 1e-8)).view_as(ref1)[0])
    assert (cams[1, [0, 2, 3, 4]] == 0).all()


def test_refiner_mix_zero_is_the_plain_cam(repo_root):
    """mix 0: the plain CAM, upsampled to the input before normalising."""
    pamr = dict(type='PAMR')
    model = _cam_model(repo_root, dict(cam_refiner=pamr,
                                       cam_refiner_guide='bands_mean',
                                       cam_refiner_mix=0.))
    x, samples = _inputs()
    labels = torch.stack([s.gt_cls_label for s in samples])
    with torch.no_grad():
        feats = model.extract_feat(x)
        cams, _ = model.decode_head.predict_cams(feats, samples)
        raw = model.decode_head.fusion_cam(model.decode_head.forward(feats))
    torch.testing.assert_close(
        cams, minmax_normalize_cams(upsample_cams(raw, (24, 24)), labels))


def test_refiner_errors(repo_root):
    with pytest.raises(ValueError, match='cam_refiner_guide must be one of'):
        _cam_model(repo_root, dict(cam_refiner_guide='rgb'))
    model = _cam_model(repo_root, dict(cam_refiner=dict(type='PAMR'),
                                       cam_refiner_guide='bands'))
    x, samples = _inputs()
    with torch.no_grad():
        feats = model.backbone(x)  # no 'inputs' key: not the CAM segmentor
        with pytest.raises(ValueError, match='needs the packed inputs'):
            model.decode_head.predict_cams(feats, samples)
    model = _cam_model(repo_root, dict(cam_refiner=dict(
        type='TemporalAffinityRefiner'), cam_refiner_guide='temporal_clue'))
    with torch.no_grad(), pytest.raises(ValueError,
                                        match='needs the temporal attention'):
        model.decode_head.predict_cams(model.extract_feat(x), samples)


def test_pamr_hand_value_is_exp_weighted():
    """Two neighbours only differ: weights follow exp(-|d| / sigma)."""
    nb = torch.tensor([0., 0., 0., 0., 0., 0., 0., 2.])
    sigma = nb.std().item()
    w = [math.exp(0)] * 7 + [math.exp(-2 / (0.1 * sigma))]
    expected = torch.tensor(w) / sum(w)
    guide = torch.zeros(3, 3)
    guide[2, 2] = 2.
    aff = PAMR(dilations=(1, )).affinity(guide[None, None])[0, :, 1, 1]
    torch.testing.assert_close(aff, expected)


def test_gating_never_falls_back_silently(repo_root, monkeypatch):
    """cam_gating='gt': the image labels; samples without them are gated
    by the predicted classes with a warning that counts them, as are
    unlabelled inputs (no samples)."""
    import mmexact.models.decode_heads.sits_cam_head as module
    warnings = []
    monkeypatch.setattr(module, 'print_log',
                        lambda msg, **kw: warnings.append(msg))
    model = _cam_model(repo_root)
    head = model.decode_head
    x, samples = _inputs()
    with torch.no_grad():
        feats = model.extract_feat(x)
        cams, probs = head.predict_cams(feats, samples)
        # the image labels: classes 1 and 4 + i, nothing else
        assert (cams.flatten(2).amax(-1) > 0).tolist() == [
            [c in (1, 4 + i) for c in range(18)] for i in range(2)]
        pred = probs > head.pred_threshold
        unlabelled, _ = head.predict_cams(feats, None)
        assert torch.equal(unlabelled.flatten(2).amax(-1) > 0, pred)
        assert not warnings
        del samples[1].gt_cls_label
        mixed, _ = head.predict_cams(feats, samples)
    present = mixed.flatten(2).amax(-1) > 0
    assert present[0].tolist() == [c in (1, 4) for c in range(18)]
    assert torch.equal(present[1], pred[1])
    assert len(warnings) == 1
    assert '1 of 2 samples carry no gt_cls_label' in warnings[0]


def test_cam_segmentor_refuses_slide_inference(repo_root):
    cfg = copy.deepcopy(Config.fromfile(f'{repo_root}/{CAM_CFG}').model)
    cfg.test_cfg = dict(mode='slide', crop_size=(24, 24), stride=(16, 16))
    with pytest.raises(ValueError, match='whole windows only'):
        MODELS.build(cfg)
