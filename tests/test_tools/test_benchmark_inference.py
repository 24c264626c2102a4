# Copyright (c) mmexact contributors. All rights reserved.
"""tools/analysis_tools/benchmark_inference.py: the throughput arithmetic (tiny model)."""
import json
import os.path as osp
import sys

import pytest

from mmexact.testing import TINY_BACKBONE

pytestmark = pytest.mark.e2e

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(REPO, 'tools', 'analysis_tools'))
import benchmark_inference  # noqa: E402


@pytest.mark.e2e
def test_benchmark_inference_report(tmp_path, capsys):
    cfg = tmp_path / 'tiny.py'
    base = osp.join(REPO, 'configs', 'tsvit',
                    'tsvit_1xb48-100e_pastis24-24x24.py')
    cfg.write_text(f'_base_ = [{base!r}]\nmodel = dict(backbone='
                   f'{TINY_BACKBONE!r}, decode_head=dict(in_channels=16))\n')
    out = tmp_path / 'bench.json'
    rep = benchmark_inference.main([
        '--config', str(cfg), '--size', '40', '--dates', '5', '--out',
        str(out), '--cfg-options',
        'test_dataloader.dataset.pipeline.2.max_seq_len=6'
    ])
    assert json.loads(out.read_text()) == rep
    assert rep['max_seq_len'] == 6 and rep['dates'] == 5
    assert rep['window'] == [24, 24] and rep['stride'] == [16, 16]
    assert rep['windows'] == 4  # offsets (0, 16) in both directions
    # 10 980 px: offsets 0, 16, ..., 10 944 and a last one at 10 956
    assert rep['tile_windows'] == 686**2
    assert rep['windows_per_s'] == pytest.approx(
        rep['windows'] / rep['seconds'], rel=1e-3)
    # 1 px = 100 m2 = 1e-4 km2: km2/h = px/s * 3600 * 1e-4
    assert rep['km2_per_hour'] == pytest.approx(
        rep['pixels_per_s'] * 0.36, rel=0.01)
    assert rep['tile_hours'] == pytest.approx(
        686**2 / rep["windows_per_s"] / 3600, rel=1e-2, abs=0.01)
    assert rep['tile_hours_by_area'] == pytest.approx(
        12100 / rep["km2_per_hour"], rel=1e-2, abs=0.01)
    assert rep['km2_per_cpu_hour'] == pytest.approx(
        40 * 40 * 1e-4 / rep['cpu_seconds'] * 3600, rel=0.02)
    assert rep['tile_cpu_hours'] == pytest.approx(
        686**2 * rep['cpu_seconds'] / 4 / 3600, rel=0.02, abs=0.01)
    assert '| one 110 x 110 km tile (470,596 windows) |' in \
        capsys.readouterr().out
