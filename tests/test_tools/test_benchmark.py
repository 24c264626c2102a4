# Copyright (c) mmexact contributors. All rights reserved.
"""tools/analysis_tools/benchmark.py in its tiny smoke mode (figures are not asserted)."""
import json
import os.path as osp
import subprocess
import sys

import pytest

pytestmark = pytest.mark.e2e

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _workloads():
    import mmexact.testing.benchmark_workloads as module
    return module


def test_benchmark_smoke(tmp_path):
    out = tmp_path / 'bench.json'
    res = subprocess.run(
        [sys.executable, osp.join(REPO, 'tools', 'analysis_tools', 'benchmark.py'), '--smoke',
         '--precisions', 'fp32', 'bf16', '--out', str(out)],
        capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    data = json.loads(out.read_text())
    assert data['precisions'] == ['fp32', 'bf16']
    for key in ('matmul', 'train', 'cam', 'sweep', 'train_bf16', 'cam_bf16',
                'matmul_bf16'):
        assert data[key]['peak_mem_mb'] > 0
    assert data['train_bf16']['precision'] == 'bf16'
    assert 'bf16 / fp32 train: x' in res.stdout
    assert data['train']['flops_per_step'] > 0
    assert data['train']['samples_per_s'] > 0
    assert data['sweep']['reference_windows_per_s'] > 0
    assert '| training step (batch 2) |' in res.stdout


def test_memory_model_fit_recovers_hand_made_model():
    fit_memory_model = _workloads().fit_memory_model

    # 800 MiB + B * (50 + 3 T), the benchmark's five points
    points = [(b, t, 800 + b * (50 + 3 * t))
              for b, t in ((1, 60), (2, 60), (4, 60), (2, 30), (2, 45))]
    fit = fit_memory_model(points)
    assert fit['base_mb'] == pytest.approx(800)
    assert fit['mb_per_sample'] == pytest.approx(50)
    assert fit['mb_per_sample_frame'] == pytest.approx(3)
    assert fit['max_abs_residual_mb'] < 1e-6
    points[0] = (1, 60, points[0][2] + 30)  # one noisy point
    assert fit_memory_model(points)['max_abs_residual_mb'] > 5
    with pytest.raises(ValueError, match='two frame counts'):
        fit_memory_model([(1, 60, 1.), (2, 60, 2.), (4, 60, 3.)])
