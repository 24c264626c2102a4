# Copyright (c) mmexact contributors. All rights reserved.
"""A one-minute miniature of `make demo` (tools/run_demo.py --mini)."""
import json
import os.path as osp
import subprocess
import sys

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_demo_miniature(tmp_path):
    cmd = [sys.executable, osp.join(REPO, 'tools', 'run_demo.py'), '--mini',
           '--work-dir', str(tmp_path / 'work'), '--data-root',
           str(tmp_path / 'data')]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    report = json.loads((tmp_path / 'work' / 'demo_results.json').read_text())
    res = report['results']
    for key in ('exact_cam_miou', 'vanilla_cam_miou', 'pseudo_label_miou',
                'pseudo_label_oa', 'stage2_miou', 'supervised_miou'):
        assert 0 <= res[key] <= 100, key
    assert '| stage 2 / fully supervised |' in out.stdout
    assert any((tmp_path / 'work' / 'cam_vis').rglob('*.png'))
    # the demo ends in a map of a georeferenced scene (tools/infer.py)
    crop_map = report['map']
    for key in ('classes', 'quicklook', 'parcels'):
        assert osp.isfile(crop_map['outputs'][key]), key
    assert crop_map['crs'] == 'EPSG:32631' and crop_map['size_km'] == 0.64
    assert 0 <= crop_map['pixels']['oa'] <= 100
    assert crop_map['parcels']['labelled'] > 0
    assert '| crop map, 0.64 x 0.64 km scene (EPSG:32631)' in out.stdout
    # a second run reuses everything and only prints the table
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0
    assert '+ ' not in again.stdout
    assert json.loads((tmp_path / 'work' / 'demo_results.json').read_text(
    ))['results'] == res
