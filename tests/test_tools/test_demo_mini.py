# Copyright (c) mmexact contributors. All rights reserved.
"""`make demo` in miniature (``tools/demo/run_demo.py --mini``), end to end.

The miniature generates 24 synthetic PASTIS patches (48 x 48 pixels, 12-16
dates, the demo's eight crops, data seed 0) and runs everything the demo
runs, with its own configs (``configs/*/*_1xb8-20e_demo-mini-24x24.py``)
and ``randomness.seed=0``: the Exact pipeline through
``tools/exact/run_exact_pipeline.py`` (stage 1 -> CB-CAM test -> threshold
sweep and pseudo labels -> stage 2 -> test), the vanilla-CAM baseline with
the same stage-1 budget (160 iterations of 8 windows), the fully supervised
TSViT, the CAM images and a crop map of a georeferenced scene through
``tools/infer.py``. Stage 1 reaches Exact's prototype warm-up and keeps
three checkpoints after it, so the schedule check runs and passes.

Quality claims, with the numbers measured on 2026-11-30 (x86_64, 2 cores,
one thread per process):

* CB-CAM vs vanilla CAM (mIoU over the classes present, train folds, best
  threshold of the last checkpoint): Exact 21.9 vs 12.4 (+9.5) at the
  fixed seeds. Over ``randomness.seed`` 0 / 1 / 2 (data seed 0): Exact
  21.9 / 23.8 / 18.2, vanilla 12.4 / 15.0 / 12.4, margin +9.5 / +8.8 /
  +5.8; on another draw of the data (data seed 1, seed 0) 15.4 vs 12.0,
  +3.4. Asserted: a margin of at least ``CAM_MARGIN`` = 3 points.
  Shorter stage-1 schedules are not reliable (120 iterations at twice the
  learning rate: +8.4 / +6.8 / -0.7; 80 iterations at three times:
  +7.2 / +3.1 / -2.1), nor is a one-layer temporal encoder (+1.4 / +7.3).
* Stage 2 learns: its test-fold mIoU against a constant prediction of the
  test fold's most frequent class (:func:`majority_class_miou` on the
  generated labels: meadow, 31.4 % of the valid pixels, 7 classes present,
  mIoU 4.49). Stage 2 reached 9.7 at the fixed seeds; 9.7 / 12.3 / 7.3 over
  the seeds above (2.2 / 2.7 / 1.6 times the trivial mIoU); the fully
  supervised TSViT of the same schedule 19.7 / 18.6 / 21.5. Asserted: at
  least ``STAGE2_OVER_TRIVIAL`` = 1.4 times the trivial mIoU (6.3). This
  claim holds for these data only: on the data of seed 1 (pseudo labels
  14.5 mIoU instead of 21.9) stage 2 reached 4.4, no better than the
  trivial 4.37 there.

Runtime: 190 s alone on an otherwise idle 2-core machine with ``--jobs
2`` (the Exact pipeline beside the two baselines, one thread per process:
the same numbers as one after the other, which took 299 s), most of it the
four trainings (about 85, 70, 52 and 52 s) and the start-up of 14 tool
processes. Shorter runs were not reliable (above).
"""
import glob
import json
import os
import os.path as osp
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytestmark = pytest.mark.e2e

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOLS = osp.join(REPO, 'tools')

#: Exact's CB-CAM mIoU minus the vanilla CAM's, in points (worst seen: 3.4)
CAM_MARGIN = 3.0
#: stage-2 mIoU / mIoU of the constant majority-class predictor (worst
#: seen on the test's data: 1.6)
STAGE2_OVER_TRIVIAL = 1.4


def majority_class_miou(data_root: str, folds) -> float:
    """mIoU (mmseg's: mean over the classes with a non-empty union) of
    predicting the most frequent class of ``folds`` for every pixel.

    Its IoU is the class's pixel fraction; every other class present in the
    ground truth has IoU 0. Void (19) is ignored.
    """
    with open(osp.join(data_root, 'metadata.geojson')) as f:
        meta = json.load(f)
    counts = np.zeros(20, np.int64)
    for feature in meta['features']:
        props = feature['properties']
        if int(props['Fold']) in folds:
            target = np.load(
                osp.join(data_root, 'ANNOTATIONS',
                         f'TARGET_{props["ID_PATCH"]}.npy'))
            counts += np.bincount(target[0].astype(np.int64).ravel(),
                                  minlength=20)[:20]
    counts = counts[:19]
    return 100 * counts.max() / counts.sum() / np.count_nonzero(counts)


def _windows(data_root: str, folds) -> int:
    with open(osp.join(data_root, 'metadata.geojson')) as f:
        meta = json.load(f)
    patches = sum(int(ft['properties']['Fold']) in folds
                  for ft in meta['features'])
    return patches * (48 // 24)**2


def pseudo_label_scores(config: str, data_root: str, png_dir: str) -> dict:
    """Pixel OA and mmseg's mIoU (classes with a non-empty union, ignore
    255) of the ``<sample_id>.png`` pseudo labels against the ground truth
    of the config's test split (the training folds of a stage-1 config),
    counted here from the files."""
    from mmengine.config import Config

    from mmseg.registry import DATASETS
    cfg = Config.fromfile(config).test_dataloader.dataset
    cfg.update(data_root=data_root, pipeline=[dict(type='LoadSITSSample')])
    dataset = DATASETS.build(cfg)
    cm = np.zeros((19, 19), np.int64)
    for i in range(len(dataset)):
        res = dataset[i]
        gt = res['gt_seg_map'].astype(np.int64)
        pred = np.array(Image.open(
            osp.join(png_dir, f'{res["sample_id"]}.png'))).astype(np.int64)
        keep = gt != 255
        cm += np.bincount(gt[keep] * 19 + pred[keep],
                          minlength=19 * 19).reshape(19, 19)
    tp = np.diag(cm).astype(float)
    union = cm.sum(0) + cm.sum(1) - tp
    return dict(num_windows=len(dataset), oa=tp.sum() / cm.sum(),
                miou=(tp[union > 0] / union[union > 0]).mean())


def test_demo_miniature(tmp_path):
    work, data = tmp_path / 'work', tmp_path / 'data'
    cmd = [sys.executable, osp.join(TOOLS, 'demo', 'run_demo.py'), '--mini',
           '--jobs', '2', '--work-dir', str(work), '--data-root', str(data)]
    env = dict(os.environ, OMP_NUM_THREADS='1')
    out = subprocess.run(cmd, capture_output=True, text=True, env=env,
                         timeout=1200)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    report = json.loads((work / 'demo_results.json').read_text())
    res = report['results']

    # the quality claims (see the module docstring)
    assert res['exact_cam_miou'] >= res['vanilla_cam_miou'] + CAM_MARGIN, res
    trivial = majority_class_miou(str(data), (5, ))
    # 31.4 % / 7 classes: the data the numbers above were measured on
    assert trivial == pytest.approx(4.49, abs=0.01)
    assert res['stage2_miou'] >= STAGE2_OVER_TRIVIAL * trivial, res
    # the pseudo labels are Exact's CAMs at the threshold chosen by OA
    pipe = work / 'exact'
    summary = json.loads((pipe / 'summary.json').read_text())
    scores = pseudo_label_scores(
        osp.join(REPO, 'configs', 'exact',
                 'exact_tsvit_1xb8-20e_demo-mini-24x24.py'), str(data),
        str(pipe / 'pseudo_labels'))
    assert scores['num_windows'] == _windows(str(data), (1, 2, 3))
    # the reported figures are those of the written PNGs
    assert summary['pseudo_label']['OA'] == pytest.approx(scores['oa'],
                                                          abs=1e-9)
    assert res['pseudo_label_miou'] == pytest.approx(100 * scores['miou'],
                                                     abs=1e-6)

    # stage 1 of both methods: the same schedule, checked (not disabled)
    for stage1 in (pipe / 'stage1', work / 'cam'):
        ckpts = sorted(p.name for p in stage1.glob('iter_*.pth'))
        assert ckpts == ['iter_120.pth', 'iter_140.pth', 'iter_160.pth']
    logs = glob.glob(str(work / '*' / '*' / '*.log')) + glob.glob(
        str(pipe / '*' / '*' / '*.log'))
    checked = [log for log in logs if 'schedule: last step 160, checkpoints '
               'after steps [120, 140, 160]' in Path(log).read_text()]
    assert len(checked) == 1 and '/stage1/' in checked[0]  # Exact's run

    # the pipeline: summary, pseudo labels of every training window
    sel = summary['pseudo_label']
    assert sel['criterion'] == 'oa' and 0 <= sel['threshold'] < 0.6
    assert osp.basename(sel['checkpoint']) in ckpts
    assert (pipe / 'summary.md').read_text().count('|') > 10
    pngs = sorted((pipe / 'pseudo_labels').glob('*.png'))
    assert len(pngs) == _windows(str(data), (1, 2, 3))
    labels = np.stack([np.array(Image.open(p)) for p in pngs])
    assert labels.shape[1:] == (24, 24)
    assert set(np.unique(labels)) <= set(range(19))
    assert (pipe / 'stage2' / 'DONE').is_file()

    # the demo's outputs: table, CAM images, crop map of a scene
    assert '| stage 2 / fully supervised |' in out.stdout
    assert any((work / 'cam_vis').rglob('*.png'))
    crop_map = report['map']
    for key in ('classes', 'quicklook', 'parcels'):
        assert osp.isfile(crop_map['outputs'][key]), key
    assert crop_map['crs'] == 'EPSG:32631' and crop_map['size_km'] == 0.64
    assert crop_map['parcels']['labelled'] > 0
    assert '| crop map, 0.64 x 0.64 km scene (EPSG:32631)' in out.stdout

    # a second run reuses everything and only prints the table
    again = subprocess.run(cmd, capture_output=True, text=True, env=env,
                           timeout=300)
    assert again.returncode == 0, again.stderr[-3000:]
    assert '+ ' not in again.stdout
    assert json.loads(
        (work / 'demo_results.json').read_text())['results'] == res
    # and so does the Exact pipeline on its own work dir
    again = subprocess.run(
        [sys.executable, osp.join(TOOLS, 'exact', 'run_exact_pipeline.py'),
         osp.join(REPO, 'configs', 'exact',
                  'exact_tsvit_1xb8-20e_demo-mini-24x24.py'), '--work-dir',
         str(pipe)], capture_output=True, text=True, env=env, timeout=300)
    assert again.returncode == 0, again.stderr[-3000:]
    assert not re.search(r'^\+ ', again.stdout, re.M), again.stdout
    assert json.loads((pipe / 'summary.json').read_text()) == summary
