# Copyright (c) mmexact contributors. All rights reserved.
"""tools/analysis_tools/many_class_study.py at a tiny size: every variant
and the vanilla CAM are trained and swept, and the table is what the
sweeps say."""
import json
import os.path as osp
import subprocess
import sys

import pytest

pytestmark = pytest.mark.e2e

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY = [
    'train_dataloader.batch_size=4', 'train_cfg.base_batch_size=4',
    'auto_scale_lr.base_batch_size=4', 'train_cfg.max_epochs=None',
    'train_cfg.max_iters=4', 'default_hooks.checkpoint.interval=2',
    'model.backbone.temporal_depth=1'
]


def test_many_class_study_tiny(tmp_path):
    cmd = [
        sys.executable,
        osp.join(REPO, 'tools', 'analysis_tools', 'many_class_study.py'),
        '--work-dir', str(tmp_path), '--num-patches', '5', '--size', '48',
        '--min-dates', '6', '--max-dates', '8', '--max-seq-len', '8',
        '--variants', 'chunk8', 'chunk8-class', '--cfg-options'
    ] + TINY + [
        '--exact-cfg-options', 'model.decode_head.proto_start_iter=2',
        'model.decode_head.chunk_size=2'
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=900,
                         cwd=REPO)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    report = json.loads((tmp_path / 'study.json').read_text())
    assert set(report['results']) == {'vanilla/0', 'chunk8/0',
                                      'chunk8-class/0'}
    assert report['data']['crops'] == 18
    for key, res in report['results'].items():
        name = key.split('/')[0]
        sweep = json.loads(
            (tmp_path / f'{name}_s0' / 'sweep' / 'sweep.json').read_text())
        best = sweep['best']
        assert res['cam_miou'] == round(100 * best['miou']['mIoU_nan'], 2)
        assert res['pseudo_label_oa'] == round(100 * best['oa']['OA'], 2)
    # the Exact options reached Exact's trainings only
    cfg = (tmp_path / 'chunk8-class_s0').glob('*/vis_data/config.py')
    text = next(cfg).read_text()
    assert "chunk_average='class'" in text and 'chunk_size=2' in text
    table = (tmp_path / 'study.md').read_text()
    assert table.count('\n') == 5  # header, rule, 2 variants, vanilla
    assert f'{report["results"]["chunk8/0"]["cam_miou"]:.1f}' in table
