# Copyright (c) mmexact contributors. All rights reserved.
"""generate_pseudo_labels (its theta rules) / visualize_cams on a tiny
random stage-1 model."""
import csv
import importlib.util
import json
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from PIL import Image

from mmexact.testing import sits_pipeline
from mmseg.registry import DATASETS, MODELS, TRANSFORMS

pytestmark = pytest.mark.e2e

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

TINY = """
_base_ = ['{base}']
model = dict(
    backbone=dict(embed_dims=16, temporal_depth=1, spatial_depth=1,
                  num_heads=2, head_dims=8, ffn_dims=32),
    decode_head=dict(in_channels=16))
pipeline = {pipeline}
loader = dict(num_workers=0, persistent_workers=False)
train_dataloader = dict(
    **loader, dataset=dict(data_root='{root}', pipeline=pipeline))
val_dataloader = dict(
    **loader, dataset=dict(data_root='{root}', pipeline=pipeline))
test_dataloader = dict(
    **loader, dataset=dict(data_root='{root}', pipeline=pipeline))
"""


def _tool(name):
    path = osp.join(REPO, 'tools', f'{name}.py')
    spec = importlib.util.spec_from_file_location(
        '_tool_' + name.replace('/', '_'), path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def stage1(tmp_path_factory, fake_pastis24):
    """A tiny stage-1 config and two randomly initialised checkpoints."""
    tmp = tmp_path_factory.mktemp('stage1')
    cfg_path = tmp / 'tiny_exact.py'
    cfg_path.write_text(
        TINY.format(
            base=osp.join(REPO, 'configs', 'exact', 'exact_tsvit_pastis.py'),
            root=fake_pastis24, pipeline=sits_pipeline(12)))
    cfg = Config.fromfile(str(cfg_path))
    ckpts = []
    for seed in (0, 1):
        torch.manual_seed(seed)
        model = MODELS.build(cfg.model)
        path = str(tmp / f'iter_{seed + 1}000.pth')
        torch.save({'state_dict': model.state_dict(), 'meta': {}}, path)
        ckpts.append(path)
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    gts = {}
    for i in range(len(dataset)):
        sample = dataset[i]['data_samples']
        gts[sample.metainfo['sample_id']] = (
            sample.gt_sem_seg.data[0].numpy(),
            sample.gt_cls_label.numpy() > 0)
    return str(cfg_path), ckpts, gts, cfg.test_dataloader.dataset


def test_generate_pseudo_labels(stage1, tmp_path, capsys):
    cfg, ckpts, gts, data_cfg = stage1
    assert len(gts) == 12  # folds 1-3 of the fixture: 3 patches x 4
    out = tmp_path / 'pseudo'
    selection = _tool('exact/generate_pseudo_labels').main(
        [cfg, *ckpts, '--out-dir', str(out), '--batch-size', '5',
         ])
    log = capsys.readouterr().out
    assert 'selected by oa' in log and 'best by miou' in log

    with open(out / 'sweep.csv') as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2 * 60
    assert [r['checkpoint'] for r in rows] == [ckpts[0]] * 60 + [ckpts[1]
                                                                  ] * 60
    assert [float(r['threshold']) for r in rows[:60]] == [
        round(0.01 * i, 2) for i in range(60)]
    assert all(f'IoU_{c}' in rows[0] for c in range(19))
    oa = np.array([float(r['OA']) for r in rows])
    miou = np.array([float(r['mIoU']) for r in rows])
    best = int(np.argmax(oa))

    with open(out / 'sweep.json') as f:
        summary = json.load(f)
    sel = summary['selection']
    assert sel == selection
    assert sel['criterion'] == 'oa'
    assert sel['checkpoint'] == rows[best]['checkpoint']
    assert sel['threshold'] == float(rows[best]['threshold'])
    assert sel['OA'] == oa.max()
    assert summary['best']['miou']['mIoU'] == miou.max()
    assert summary['best']['oa'] == sel
    assert len(summary['rows']) == 120
    assert summary['class_names'][0] == 'Background'
    assert summary['meta']['num_windows'] == 12

    # one PNG per window; the written labels reproduce the selected OA
    pngs = sorted(p.name for p in out.glob('*.png'))
    assert pngs == sorted(f'{sid}.png' for sid in gts)
    correct = valid = 0
    for sid, (gt, present) in gts.items():
        label = np.array(Image.open(out / f'{sid}.png'))
        assert label.shape == (24, 24) and label.dtype == np.uint8
        allowed = {0} | {c + 1 for c in np.flatnonzero(present)}
        assert set(np.unique(label).tolist()) <= allowed
        mask = gt != 255
        correct += int((label[mask] == gt[mask]).sum())
        valid += int(mask.sum())
    assert abs(correct / valid - sel['OA']) < 1e-12

    # stage 2 reads them back through LoadPseudoLabel
    pipeline = list(data_cfg['pipeline'])
    pipeline.insert(-1, dict(type='LoadPseudoLabel',
                             pseudo_label_dir=str(out)))
    dataset = DATASETS.build(dict(data_cfg, pipeline=pipeline))
    sample = dataset[0]['data_samples']
    sid = sample.metainfo['sample_id']
    np.testing.assert_array_equal(
        sample.gt_sem_seg.data[0].numpy(),
        np.array(Image.open(out / f'{sid}.png')))


def test_generate_pseudo_labels_select_miou(stage1, tmp_path):
    cfg, ckpts = stage1[:2]
    out = tmp_path / 'pseudo'
    sel = _tool('exact/generate_pseudo_labels').main(
        [cfg, ckpts[1], '--out-dir', str(out), '--select', 'miou',
         '--thresholds', '0.1', '0.5', '0.1'])
    with open(out / 'sweep.csv') as f:
        rows = list(csv.DictReader(f))
    assert [float(r['threshold']) for r in rows] == [0.1, 0.2, 0.3, 0.4]
    assert sel['criterion'] == 'miou'
    assert sel['mIoU'] == max(float(r['mIoU']) for r in rows)
    assert len(list(out.glob('*.png'))) == 12


def test_visualize_cams(stage1, tmp_path):
    cfg, ckpts, gts = stage1[:3]
    out = tmp_path / 'vis'
    count = _tool('analysis_tools/visualize_cams').main(
        [cfg, ckpts[0], '--out-dir', str(out), '--max-windows', '5',
         '--batch-size', '2', '--frame', '0'])
    # drawn through the visualizer: its Local backend holds the images
    pngs = sorted((out / 'vis_data' / 'vis_image').glob('*.png'))
    assert count == len(pngs) == 5
    for p in pngs:
        im = np.array(Image.open(p))
        present = int(gts[p.stem[:-len('_0')]][1].sum())
        panels = 3 + present  # RGB, GT, pseudo label, CAMs
        assert im.shape == ((24 + 2) * 8, panels * 24 * 8 +
                            (panels - 1) * 4, 3)


def _free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _run_tool(args, nproc=None):
    import os
    import subprocess
    import sys
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHON=sys.executable,
               PORT=str(_free_port()))
    if nproc is None:
        cmd = [sys.executable, 'tools/exact/generate_pseudo_labels.py', *args]
    else:
        cmd = ['bash', 'tools/exact/dist_generate_pseudo_labels.sh', args[0],
               str(nproc), *args[1:]]
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return proc.stdout


def _pngs(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.glob('*.png'))}


def test_distributed_pseudo_labels_equal_one_process(stage1, tmp_path):
    """2 gloo ranks through the Runner (DefaultSampler shards, the metric's
    histograms collected): bitwise the single-process sweep and PNGs."""
    cfg, ckpts, gts = stage1[:3]
    one, two = tmp_path / 'one', tmp_path / 'two'
    common = ['--batch-size', '5']
    log1 = _run_tool([cfg, *ckpts, '--out-dir', str(one), *common])
    log2 = _run_tool([cfg, *ckpts, '--out-dir', str(two), *common], nproc=2)
    assert '1 process(es)' in log1 and '2 process(es)' in log2
    assert '12 pseudo labels written' in log1
    assert '12 pseudo labels written' in log2
    assert (one / 'sweep.csv').read_bytes() == (two / 'sweep.csv').read_bytes()
    s1 = json.loads((one / 'sweep.json').read_text())
    s2 = json.loads((two / 'sweep.json').read_text())
    assert s1['rows'] == s2['rows'] and s1['selection'] == s2['selection']
    assert s2['meta']['num_processes'] == 2
    p1, p2 = _pngs(one), _pngs(two)
    assert len(p1) == 12 and p1 == p2


def test_theta_rule_image_labels(stage1, tmp_path, capsys):
    """The label-free rule: its sweep scores ungated CAMs (absent classes
    do show up: false positives), the PNGs keep the 'gt' gating; the rule
    and theta are in sweep.json and sweep.csv."""
    cfg, ckpts, gts = stage1[:3]
    out = tmp_path / 'labels'
    sel = _tool('exact/generate_pseudo_labels').main(
        [cfg, *ckpts, '--out-dir', str(out), '--theta-rule', 'image-labels',
         '--thresholds', '0.1', '0.5', '0.1', '--batch-size', '6'])
    log = capsys.readouterr().out
    assert 'theta rule image-labels' in log
    assert "pseudo labels with cam_gating='gt'" in log
    with open(out / 'sweep.csv') as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2 * 4
    assert {r['theta_rule'] for r in rows} == {'image-labels'}
    f1 = [float(r['F1']) for r in rows]
    best = f1.index(max(f1))  # the first maximum: ties to the lower theta
    assert [r['selected'] for r in rows] == [
        str(int(k == best)) for k in range(8)]
    assert sel['rule'] == 'image-labels' and sel['criterion'] == 'f1'
    assert sel['checkpoint'] == rows[best]['checkpoint']
    assert sel['threshold'] == float(rows[best]['threshold'])
    assert sel['F1'] == max(f1) and sel['min_fraction'] == 0.01
    assert sum(int(r['FP']) for r in rows) > 0  # ungated CAMs in the sweep
    for r in rows:
        tp, fp, fn = (int(r[k]) for k in ('TP', 'FP', 'FN'))
        assert float(r['F1']) == pytest.approx(2 * tp / (2 * tp + fp + fn))
    summary = json.loads((out / 'sweep.json').read_text())
    assert summary['selection'] == sel == summary['best']['f1']
    assert summary['meta']['theta_rule'] == 'image-labels'
    # the PNGs: gated by the image labels
    assert len(list(out.glob('*.png'))) == 12
    for sid, (_, present) in gts.items():
        label = np.array(Image.open(out / f'{sid}.png'))
        allowed = {0} | {c + 1 for c in np.flatnonzero(present)}
        assert set(np.unique(label).tolist()) <= allowed


def test_theta_rule_fixed_and_arguments(stage1, tmp_path):
    cfg, ckpts = stage1[:2]
    tool = _tool('exact/generate_pseudo_labels')
    out = tmp_path / 'fixed'
    sel = tool.main([cfg, ckpts[1], '--out-dir', str(out), '--theta-rule',
                     'fixed', '--bg-threshold', '0.3'])
    assert sel['rule'] == 'fixed' and sel['threshold'] == 0.3
    with open(out / 'sweep.csv') as f:
        rows = list(csv.DictReader(f))
    assert rows == [dict(theta_rule='fixed', checkpoint=ckpts[1],
                         threshold='0.3', selected='1')]
    assert json.loads((out / 'sweep.json').read_text())['selection'] == sel
    assert len(list(out.glob('*.png'))) == 12
    bad = [
        ['--theta-rule', 'fixed'],  # no theta
        ['--bg-threshold', '0.3'],  # theta without the fixed rule
        ['--theta-rule', 'fixed', '--bg-threshold', '0.3', ckpts[0]],
        ['--min-fraction', '0.02'],  # an image-labels option
    ]
    for extra in bad:
        with pytest.raises(SystemExit):
            tool.parse_args([cfg, ckpts[1], '--out-dir', 'x', *extra])


@TRANSFORMS.register_module(name='_TestIgnoreAllPixels', force=True)
class _IgnoreAllPixels:
    """No pixel truth: the whole window 255 (after the image labels)."""

    def __call__(self, results):
        results['gt_seg_map'] = np.full_like(results['gt_seg_map'], 255)
        return results


def test_no_pixel_truth_points_to_the_image_label_rule(stage1, tmp_path):
    cfg_path, ckpts, _, data_cfg = stage1
    cfg = tmp_path / 'no_truth.py'
    cfg.write_text(
        f"_base_ = ['{cfg_path}']\n"
        f"test_dataloader = dict(dataset=dict(pipeline="
        f"{sits_pipeline(12, augment=[dict(type='_TestIgnoreAllPixels')])}"
        "))\n")
    tool = _tool('exact/generate_pseudo_labels')
    with pytest.raises(SystemExit, match='--theta-rule image-labels'):
        tool.main([str(cfg), ckpts[0], '--out-dir', str(tmp_path / 'px'),
                   '--thresholds', '0.2', '0.4', '0.1'])
    assert not (tmp_path / 'px' / 'sweep.json').exists()
    sel = tool.main([str(cfg), ckpts[0], '--out-dir', str(tmp_path / 'il'),
                     '--thresholds', '0.2', '0.4', '0.1', '--theta-rule',
                     'image-labels', '--sweep-only'])
    assert sel['rule'] == 'image-labels'
    assert not list((tmp_path / 'il').glob('*.png'))
