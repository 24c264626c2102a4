# Copyright (c) mmexact contributors. All rights reserved.
"""Golden test against outputs of the official Exact classification network.

``../shared/data/reference/exact_cls_official_seed1.pt`` holds what the
official ``Exact_cls`` (MiSsU-HH/Exact @ 7cd0659, random weights after
``torch.manual_seed(1)``) computes for four real PASTIS24 windows (see that
folder's README). Here its state dict goes through
``tools/model_converters/exact2mmexact.py``, the four windows through
mmexact's own data pipeline, and every recorded quantity is compared.

Tolerance: ``1e-5 * max |reference tensor|`` unless stated otherwise. The
official momentum update of the prototypes draws Gumbel noise, which a
re-implementation cannot draw identically; it changes the background pass
of L_cbl (whose logits see the updated foreground prototypes) and the
updated prototypes, which get looser, stated tolerances.
"""
import hashlib
import importlib.util
import os.path as osp

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.runner import load_checkpoint

from mmexact.evaluation import ThresholdSweep, cams_to_pseudo_labels
from mmexact.exact import mmexact_to_exact_reference
from mmexact.models.utils import upsample_cams
from mmseg.registry import DATASETS, MODELS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SHARED = osp.join(osp.dirname(REPO), 'shared')
GOLDEN = osp.join(SHARED, 'data', 'reference',
                  'exact_cls_official_seed1.pt')
CONFIG = osp.join(REPO, 'configs', 'exact', 'exact_tsvit_pastis.py')
THRESHOLDS = ('0.00', '0.20', '0.30', '0.40')
GOLDEN_STEP = 5000  # meta['abs_step'] of the golden file

pytestmark = pytest.mark.skipif(
    not osp.isfile(GOLDEN),
    reason=f'golden reference outputs not available ({GOLDEN} is absent)')


def assert_golden(actual, expected, rel: float = 1e-5, name: str = ''):
    """|actual - expected| <= rel * max |expected| everywhere."""
    expected = torch.as_tensor(expected, dtype=torch.float64)
    actual = torch.as_tensor(actual, dtype=torch.float64)
    assert actual.shape == expected.shape, (name, actual.shape,
                                            expected.shape)
    tol = rel * float(expected.abs().max().clamp(min=1e-12))
    err = float((actual - expected).abs().max())
    assert err <= tol, f'{name}: max error {err:.3g} > {tol:.3g}'


@pytest.fixture(scope='module')
def golden():
    return torch.load(GOLDEN, weights_only=True, map_location='cpu')


@pytest.fixture(scope='module')
def checkpoint(golden, tmp_path_factory):
    """The official state dict converted by the shipped tool."""
    tmp = tmp_path_factory.mktemp('golden')
    src, dst = str(tmp / 'official.pth'), str(tmp / 'converted.pth')
    torch.save(golden['state_dict'], src)
    spec = importlib.util.spec_from_file_location(
        'convert_reference_checkpoint',
        osp.join(REPO, 'tools', 'model_converters', 'exact2mmexact.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    tool.main([src, dst, '--emulate-date-truncation'])
    return dst


@pytest.fixture(scope='module')
def batch(golden, tmp_path_factory):
    """The four windows through mmexact's PASTIS24 dataset and pipeline."""
    tmp = tmp_path_factory.mktemp('golden_data')
    paths = [osp.join(SHARED, f) for f in golden['files']]
    for path, digest in zip(paths, golden['sha256']):
        with open(path, 'rb') as f:
            assert hashlib.sha256(f.read()).hexdigest() == digest, path
    csv = tmp / 'windows.csv'
    csv.write_text('\n'.join(paths) + '\n')
    cfg = Config.fromfile(CONFIG)
    ds_cfg = cfg.test_dataloader.dataset
    ds_cfg.update(data_root=str(tmp), split_files=[str(csv)])
    dataset = DATASETS.build(ds_cfg)
    assert [dataset[i]['data_samples'].metainfo['sample_id']
            for i in range(4)] == golden['names']
    return pseudo_collate([dataset[i] for i in range(4)])


def build_model(checkpoint: str, mode: str = 'grad'):
    cfg = Config.fromfile(CONFIG)
    cfg.model.backbone.emulate_date_truncation = True
    cfg.model.decode_head.prototypes.mode = mode
    # the golden outputs treat the four windows as one device batch
    cfg.model.decode_head.chunk_size = None
    model = MODELS.build(cfg.model)
    load_checkpoint(model, checkpoint, map_location='cpu', strict=True)
    return model


def preprocess(model, batch, training: bool):
    return model.data_preprocessor(dict(batch), training)


def test_inputs_and_labels(golden, batch, checkpoint):
    model = build_model(checkpoint)
    data = preprocess(model, batch, False)
    x = data['inputs']  # (4, 60, 11, 24, 24), date channel = doy
    ref = golden['inputs'].permute(0, 1, 4, 2, 3)  # (4, 60, 11, 24, 24)
    assert x.shape == ref.shape
    assert_golden(x[:, :, :10], ref[:, :, :10], name='bands')
    assert_golden(x[:, :, 10] / 365.0001, ref[:, :, 10], name='date')
    samples = data['data_samples']
    labels = torch.stack([s.gt_cls_label for s in samples])
    assert torch.equal(labels.long(), golden['cls_labels'])
    gt = torch.stack([s.gt_sem_seg.data[0] for s in samples]).long()
    ref_gt = golden['labels'].long()
    assert torch.equal(gt == 255, ~golden['unk_masks'])
    assert torch.equal(gt[gt != 255], ref_gt[gt != 255])
    assert [len(d) for d in golden['doy']] == golden['T']


def test_eval_logits(golden, batch, checkpoint):
    model = build_model(checkpoint).eval()
    data = preprocess(model, batch, False)
    with torch.no_grad():
        out = model.decode_head.forward(model.extract_feat(data['inputs']))
    ref = golden['eval']
    assert_golden(out['cls_logits'], ref['cls_logits'], name='cls')
    assert_golden(out['spatial_logits'], ref['spatial_patch_logits'],
                  name='spatial')
    assert_golden(out['temporal_logits'], ref['temporal_patch_logits'],
                  name='temporal')


@pytest.mark.parametrize('protos', ['seed', 'structured'])
def test_cb_cams_and_pseudo_labels(golden, batch, checkpoint, protos):
    ref = golden['cam'][protos]
    model = build_model(checkpoint).eval()
    head = model.decode_head
    with torch.no_grad():
        head.prototypes.fg.copy_(ref['fg_proto_used'])
        head.prototypes.bg.copy_(ref['bg_proto_used'])
    data = preprocess(model, batch, False)
    samples = data['data_samples']
    labels = torch.stack([s.gt_cls_label for s in samples]).float()
    with torch.no_grad():
        feats = model.extract_feat(data['inputs'])
        raw = head.raw_cams(feats, head.forward(feats), labels)
        cams, _ = head.predict_cams(feats, samples)
    assert_golden(raw, ref['cb_cam'], name='cb_cam')
    # min-max normalisation divides by each map's range (down to 0.018
    # here for a max of 1.9): the raw tolerance delta carried through it
    # is 2 delta / range per (window, class)
    delta = 1e-5 * float(ref['cb_cam'].abs().max())
    gated = ref['cb_cam'] * labels[..., None, None]
    span = (gated.flatten(2).max(-1)[0] - gated.flatten(2).min(-1)[0])
    err = (cams - ref['cb_cam_saved']).abs().flatten(2).max(-1)[0]
    present = labels > 0
    assert (err[present] <= 2 * delta / span[present]).all()
    assert (err[~present] == 0).all()
    # the official code normalises its prototypes in place; mmexact
    # normalises copies and leaves the module unchanged
    fg, bg = head.prototypes.normalized()
    assert_golden(fg, ref['fg_proto_after'], name='fg normalised')
    assert_golden(bg, ref['bg_proto_after'], name='bg normalised')
    assert torch.equal(head.prototypes.fg, ref['fg_proto_used'])

    scores = upsample_cams(cams, (24, 24))
    gt = torch.stack([s.gt_sem_seg.data[0] for s in samples]).long()
    sweep = ThresholdSweep([float(t) for t in THRESHOLDS], num_classes=19)
    sweep.update(scores, gt)
    res = sweep.compute()
    for j, theta in enumerate(THRESHOLDS):
        labels_theta = cams_to_pseudo_labels(scores, float(theta))
        assert torch.equal(labels_theta.to(torch.uint8),
                           ref['pseudo_labels'][theta]), theta
        metrics = ref['metrics'][theta]
        assert float(res['miou'][j]) * 100 == pytest.approx(
            metrics['mIoU'], abs=1e-9)
        assert float(res['oa'][j]) * 100 == pytest.approx(
            metrics['OA'], abs=1e-9)


def _train_outputs(model, batch, seed: int):
    """Training-mode forward at the golden step (5000)."""
    head = model.decode_head
    data = preprocess(model, batch, True)
    samples = data['data_samples']
    feats = model.extract_feat(data['inputs'])
    out = head.forward(feats)
    labels = head.image_labels(samples)
    fusion, refined = head.fusion_and_refined(feats, out, labels)
    torch.manual_seed(seed)
    head.set_train_step(GOLDEN_STEP)
    losses = head.loss(feats, samples)
    return out, fusion, refined, losses


def _loss_terms(losses):
    """mmexact's losses under the reference's names. The reference's
    ``loss_cbl`` and ``loss_tap`` already carry lambda_1 = 0.01 and
    lambda_2 = 0.015 (its ``loss`` is the plain sum of the four)."""
    return dict(
        loss_cls=losses['loss_cls'],
        loss_aux_cls=losses['loss_aux'],
        loss_cbl=losses['loss_cbl'],
        loss_tap=losses['loss_tap'],
        loss=sum(v for k, v in losses.items() if 'loss' in k))


# L_cbl's background pass sees foreground prototypes nudged by a Gumbel
# sample (momentum 0.999): relative differences stay far below 1e-3.
CBL_REL = 1e-3


def _check_loss_terms(terms, ref):
    for key in ('loss_cls', 'loss_aux_cls', 'loss_tap'):
        assert_golden(terms[key], ref[key], name=key)
    assert_golden(terms['loss_cbl'], ref['loss_cbl'], rel=CBL_REL,
                  name='loss_cbl')
    cbl_share = float(ref['loss_cbl'] / ref['loss'])
    assert_golden(terms['loss'], ref['loss'], rel=1e-5 + cbl_share * CBL_REL,
                  name='loss')


def test_training_forward(golden, batch, checkpoint, mode='ema'):
    """Training forward, losses and the momentum update of the prototypes
    in ``ema`` mode (the paper's update, in place); the shipped ``grad``
    mode's losses and gradients are checked by :func:`test_gradients`."""
    ref = golden['train']
    model = build_model(checkpoint, mode=mode).train()
    with torch.no_grad():
        out, fusion, refined, losses = _train_outputs(model, batch, 2)
    assert_golden(out['cls_logits'], ref['cls_logits'], name='cls')
    assert_golden(out['spatial_logits'], ref['spatial_patch_logits'],
                  name='spatial')
    assert_golden(out['temporal_logits'], ref['temporal_patch_logits'],
                  name='temporal')
    assert_golden(fusion, ref['fusion_cam'], name='fusion_cam')
    assert_golden(refined, ref['fusion_cam_refine'], name='refined')
    terms = _loss_terms(losses)
    _check_loss_terms(terms, ref['loss_terms'])
    # momentum-updated prototypes. Which of a class's two prototypes a
    # pixel updates is a Gumbel draw, so individual prototypes differ from
    # the official ones; deterministic are: unit rows, the classes whose
    # prototypes moved (those with selected pixels), and the size of the
    # update (each moved prototype moves by about 1e-3)
    protos = model.decode_head.prototypes
    init = torch.load(checkpoint, weights_only=False)['state_dict']
    for name, after in (('fg', ref['fg_proto_after']),
                        ('bg', ref['bg_proto_after'])):
        mine = getattr(protos, name)
        torch.testing.assert_close(
            mine.norm(dim=-1), torch.ones(18, 2), atol=1e-6, rtol=0)
        start = F.normalize(init[f'decode_head.prototypes.{name}'], dim=-1)
        moved_ref = (after - start).norm(dim=-1)  # (K, N_p)
        moved = (mine - start).norm(dim=-1)
        assert torch.equal(moved.amax(-1) > 1e-6, moved_ref.amax(-1) > 1e-6)
        assert float(moved.norm()) == pytest.approx(
            float(moved_ref.norm()), rel=0.03), name
        assert float((mine - after).norm()) < 0.35 * float(moved_ref.norm())


@pytest.mark.parametrize('mode', ['ema', 'grad'])
def test_gradients(golden, batch, checkpoint, mode):
    """The losses and every gradient the reference gives (all but the
    prototypes') in both prototype modes: ``ema`` and the shipped
    ``grad`` (the released DataParallel run, whose momentum update is lost
    on the replicas). In ``grad`` mode the step leaves the prototypes
    untouched (the optimiser moves them) and they get a gradient, which
    the reference's outputs do not determine (its prototypes get none)."""
    ref = golden['grad']
    model = build_model(checkpoint, mode=mode).train()
    _, _, _, losses = _train_outputs(model, batch, 3)
    _check_loss_terms(_loss_terms(losses),
                      ref['loss_terms'])
    if mode == 'grad':
        init = torch.load(checkpoint, weights_only=False)['state_dict']
        for name in ('fg', 'bg'):
            assert torch.equal(
                getattr(model.decode_head.prototypes, name).detach(),
                init[f'decode_head.prototypes.{name}'])
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    grads = {
        name: (p.grad if p.grad is not None else torch.zeros_like(p))
        for name, p in model.named_parameters()
    }
    grads.update({name: torch.zeros_like(b)
                  for name, b in model.named_buffers()
                  if name.startswith('decode_head.prototypes')})
    ref_grads = mmexact_to_exact_reference(
        dict(state_dict=grads, meta=dict(emulate_date_truncation=True)))
    checked = 0
    for name, norm in ref['grad_norms'].items():
        if norm is None:  # the prototypes: no gradient in the reference
            assert name in ('fg_proto', 'bg_proto')
            continue
        mine = ref_grads[name].norm()
        # (the Gumbel-dependent part of L_cbl reaches the gradients too,
        # but far below this tolerance: 1e-6 measured)
        assert float(mine) == pytest.approx(norm, rel=1e-5, abs=1e-9), name
        checked += 1
    assert checked == 149  # 152 tensors - 2 prototypes - TAAP kernel
    for name, full in ref['grads_small'].items():
        assert_golden(ref_grads[name], full, name=name)
