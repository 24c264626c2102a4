# Copyright (c) mmexact contributors. All rights reserved.
"""tools/demo/run_baselines.py: the comparison table of the SITS baselines."""
import importlib.util
import json
import os
import os.path as osp
import subprocess
import sys

import pytest

pytestmark = pytest.mark.e2e

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _tool():
    spec = importlib.util.spec_from_file_location(
        '_tool_run_baselines', osp.join(REPO, 'tools', 'demo', 'run_baselines.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_budget_options_scale_the_schedule_and_exacts_warm_up():
    tool = _tool()
    # the budget is train_cfg.max_epochs alone: the demo schedules last it
    # and warm up for 1/8 of it (no option addresses the scheduler)
    assert tool.budget_options(3, mini=False) == ['train_cfg.max_epochs=3']
    assert tool.budget_options(8, mini=True) == [
        'train_cfg.max_epochs=8', 'train_cfg.max_iters=4',
        'default_hooks.checkpoint.interval=2']
    config = osp.join(REPO, 'configs', 'tsvit', 'tsvit_1xb16-8e_demo-24x24.py')
    opts = tool.data_options(config, '/d')
    assert 'train_dataloader.dataset.pipeline.1.norm_file=' \
        '/d/NORM_S2_patch.json' in opts
    assert 'train_dataloader.dataset.data_root=/d' in opts
    # demo: step 100 of 8 epochs -> the same fraction of 3 epochs
    assert tool.exact_options(3, mini=False) == [
        'model.decode_head.proto_start_iter=38']
    assert tool.exact_options(8, mini=False) == [
        'model.decode_head.proto_start_iter=100']


def test_exact_rows_reuse_make_demo_with_the_same_budget(tmp_path):
    tool = _tool()
    demo = tmp_path / 'demo'
    sweep = demo / 'exact' / 'stage1' / 'sweep'
    sweep.mkdir(parents=True)
    (demo / 'demo_results.json').write_text('{}')
    (sweep / 'sweep.json').write_text(json.dumps(
        dict(selection=dict(mIoU_nan=0.253, OA=0.61, mIoU=0.1))))
    (demo / 'exact' / 'stage2_test_metrics.json').write_text(
        json.dumps(dict(mIoU=18.2, aAcc=55.5)))
    root = osp.join(REPO, 'data', 'demo', 'synthetic_pastis')
    rows = tool.exact_rows(str(tmp_path / 'work'), root, [], 8, False,
                           str(demo))
    assert [r['key'] for r in rows] == ['exact', 'exact-stage2']
    assert rows[0]['mIoU'] == 25.3 and rows[0]['OA'] == 61.0
    assert rows[0]['evaluation'] == tool.CAM_EVAL
    assert (rows[1]['mIoU'], rows[1]['OA']) == (18.2, 55.5)
    assert rows[0]['train_seconds'] is None
    assert rows[0]['note'] == 'from make demo'
    # Exact's demo network (stage 1) and the stage-2 TSViT
    assert rows[0]['parameters'] == 46_434
    assert rows[1]['parameters'] == 43_940
    assert not (tmp_path / 'work').exists()  # nothing was run


def test_table_format():
    tool = _tool()
    rows = [tool._row('utae', 'U-TAE', 'full', tool.SEG_EVAL, 41.26, 70.04,
                      87_315, 90.0),
            tool._row('exact', 'Exact (CB-CAM)', 'image labels',
                      tool.CAM_EVAL, 25.25, 61.0, 46_434, None,
                      'from make demo')]
    lines = tool.format_table(dict(rows=rows)).splitlines()
    assert lines[2] == ('| U-TAE | full | test fold | 41.3 | 70.0 | 87,315 '
                        '| 1.5 min |')
    assert lines[3] == ('| Exact (CB-CAM) | image labels | CAMs, train '
                        'folds, best θ | 25.2 | 61.0 | 46,434 | n/a (from '
                        'make demo) |')


def test_mini_run_through_the_tools(tmp_path, monkeypatch):
    """A supervised baseline and CAM + TAAP (vanilla-CAM training and the
    sweep), 4 iterations each; a second run only prints the table."""
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS='1')
    env.pop('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', None)
    work = tmp_path / 'work'
    args = ['--mini', '--work-dir', str(work), '--data-root',
            str(tmp_path / 'data'), '--methods', 'unet3d', 'cam-taap']
    out = subprocess.run(
        [sys.executable, osp.join(REPO, 'tools', 'demo', 'run_baselines.py'), *args],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-5000:]
    with open(work / 'baselines.json') as f:
        report = json.load(f)
    rows = {r['key']: r for r in report['rows']}
    assert list(rows) == ['unet3d', 'cam-taap']
    for r in rows.values():
        assert r['train_seconds'] > 0
    # the rows are the runs' own results: the test-fold metrics of the
    # supervised run, the mIoU-selected theta of the CAM + TAAP sweep
    with open(work / 'unet3d' / 'test_metrics.json') as f:
        test = json.load(f)
    assert (rows['unet3d']['mIoU'], rows['unet3d']['OA']) == (
        test['mIoU'], test['aAcc'])
    with open(work / 'cam' / 'sweep_cam-taap' / 'sweep.json') as f:
        sel = json.load(f)['selection']
    assert sel['criterion'] == 'miou'
    assert rows['cam-taap']['mIoU'] == pytest.approx(100 * sel['mIoU_nan'])
    assert rows['cam-taap']['OA'] == pytest.approx(100 * sel['OA'])
    assert rows['unet3d']['evaluation'] == 'test fold'
    assert rows['unet3d']['parameters'] == 389_715
    # TAAP adds no parameters: the vanilla CAM's network
    assert rows['cam-taap']['parameters'] == 44_130
    assert rows['cam-taap']['note'] == 'trained as the vanilla CAM'
    assert '| UNet3D | full | test fold |' in out.stdout
    assert (work / 'baselines.md').read_text().count('\n') == 4

    tool = _tool()

    def no_run(cmd):
        raise AssertionError(f'ran {cmd}')

    monkeypatch.setattr(tool, '_run', no_run)
    again = tool.main(args)
    assert again['rows'] == report['rows']
