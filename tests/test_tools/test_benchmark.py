# Copyright (c) mmexact contributors. All rights reserved.
"""tools/benchmark.py in its tiny smoke mode (figures are not asserted)."""
import json
import os.path as osp
import subprocess
import sys

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_benchmark_smoke(tmp_path):
    out = tmp_path / 'bench.json'
    res = subprocess.run(
        [sys.executable, osp.join(REPO, 'tools', 'benchmark.py'), '--smoke',
         '--out', str(out)], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    data = json.loads(out.read_text())
    for key in ('matmul', 'train', 'cam', 'sweep'):
        assert data[key]['peak_mem_mb'] > 0
    assert data['train']['flops_per_step'] > 0
    assert data['train']['samples_per_s'] > 0
    assert data['sweep']['reference_windows_per_s'] > 0
    assert '| training step (batch 2) |' in res.stdout
