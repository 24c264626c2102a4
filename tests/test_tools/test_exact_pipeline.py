# Copyright (c) mmexact contributors. All rights reserved.
"""The whole Exact pipeline through tools/run_exact_pipeline.py."""
import json
import os
import os.path as osp
import subprocess
import sys

import numpy as np
from PIL import Image

from mmexact.testing import tiny_run_config

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

STAGE1_HEAD = 'decode_head=dict(in_channels=16, proto_start_iter=2)'


def test_pipeline_end_to_end_and_resumable(tmp_path, fake_pastis24):
    configs = osp.join(REPO, 'configs')
    (tmp_path / 'stage1.py').write_text(
        tiny_run_config(
            osp.join(configs, 'exact', 'exact_tsvit_pastis.py'),
            fake_pastis24, 4, val_interval=2, head=STAGE1_HEAD) +
        "stage2_config = 'stage2.py'\n")
    (tmp_path / 'stage2.py').write_text(
        tiny_run_config(
            osp.join(configs, 'exact',
                     'exact-stage2_tsvit_1xb48-100e_pastis24-24x24.py'),
            fake_pastis24, 4, val_interval=2,
            # stage 2 reads the pseudo labels; the pipeline sets the folder
            train_augment=[dict(type='LoadPseudoLabel',
                                pseudo_label_dir='set-by-the-pipeline')]))
    work = tmp_path / 'work'
    cmd = [sys.executable, osp.join(REPO, 'tools', 'run_exact_pipeline.py'),
           str(tmp_path / 'stage1.py'), '--work-dir', str(work)]
    env = dict(os.environ, PYTHONPATH=REPO)
    out = subprocess.run(cmd, capture_output=True, text=True, env=env,
                         timeout=900, cwd=tmp_path)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    summary = json.loads((work / 'summary.json').read_text())
    assert 0 <= summary['cam_mIoU'] <= 100
    assert 0 <= summary['stage2_test_mIoU'] <= 100
    sel = summary['pseudo_label']
    assert sel['criterion'] == 'oa' and 0 <= sel['threshold'] < 0.6
    assert 'Exact pipeline summary' in out.stdout
    assert (work / 'summary.md').read_text().count('|') > 10
    # pseudo labels for all training windows (folds 1-3: 12 windows)
    pngs = sorted((work / 'pseudo_labels').glob('*.png'))
    assert len(pngs) == 12
    assert np.array(Image.open(pngs[0])).max() <= 18
    assert (work / 'stage1' / 'iter_4.pth').is_file()
    assert (work / 'stage2' / 'DONE').is_file()
    # a second run reuses every stage and reproduces the summary
    again = subprocess.run(cmd, capture_output=True, text=True, env=env,
                           timeout=300, cwd=tmp_path)
    assert again.returncode == 0, again.stderr[-3000:]
    assert 'train.py' not in again.stdout
    assert json.loads((work / 'summary.json').read_text()) == summary
