# Copyright (c) mmexact contributors. All rights reserved.
"""tools/exact/run_exact_pipeline.py: the commands of its stages.

Its whole run (with the demo configs) is covered by
``test_demo_mini.py``; the distributed tools it calls by
``test_dist_train.py`` and ``test_pseudo_label_tools.py``. Here: with
``--launcher pytorch`` every training / test / pseudo-label stage runs under
torchrun on ``--nproc-per-node`` processes, and a resumable stage-1 run
resumes.
"""
import importlib.util
import os.path as osp
import sys

from mmexact.utils import tool_runs

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO, 'configs', 'exact',
                  'exact_tsvit_1xb16-8e_demo-24x24.py')


def _tool():
    spec = importlib.util.spec_from_file_location(
        '_tool_run_exact_pipeline',
        osp.join(REPO, 'tools', 'exact', 'run_exact_pipeline.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _record(tool, monkeypatch, work):
    calls = []

    def run(cmd, check, **kwargs):
        assert check
        calls.append(cmd)
        # the training writes a checkpoint
        (work / 'stage1').mkdir(parents=True, exist_ok=True)
        (work / 'stage1' / 'iter_4.pth').write_bytes(b'')

    monkeypatch.setattr(tool_runs.subprocess, 'run', run)
    return calls


def test_launcher_pytorch_runs_the_stages_under_torchrun(tmp_path,
                                                         monkeypatch):
    tool = _tool()
    calls = _record(tool, monkeypatch, tmp_path)
    tool.main([CONFIG, '--work-dir', str(tmp_path), '--launcher', 'pytorch',
               '--nproc-per-node', '2', '--stop-after', 'stage1'])
    assert len(calls) == 1
    cmd = calls[0]
    assert cmd[:4] == [sys.executable, '-m', 'torch.distributed.run',
                       '--nproc_per_node=2']
    assert cmd[4].startswith('--master_port=')
    assert cmd[5] == osp.join(REPO, 'tools', 'train.py')
    assert cmd[6:] == [CONFIG, '--work-dir', str(tmp_path / 'stage1'),
                       '--launcher', 'pytorch']
    assert (tmp_path / 'stage1' / 'DONE').is_file()
    # done stages are not run again
    tool.main([CONFIG, '--work-dir', str(tmp_path), '--launcher', 'pytorch',
               '--nproc-per-node', '2', '--stop-after', 'stage1'])
    assert len(calls) == 1


def test_one_process_and_resume(tmp_path, monkeypatch):
    tool = _tool()
    calls = _record(tool, monkeypatch, tmp_path)
    (tmp_path / 'stage1').mkdir()
    (tmp_path / 'stage1' / 'last_checkpoint').write_text('iter_2.pth')
    tool.main([CONFIG, '--work-dir', str(tmp_path), '--stop-after', 'stage1',
               '--cfg-options', 'randomness.seed=3'])
    assert calls == [[
        sys.executable, osp.join(REPO, 'tools', 'train.py'), CONFIG,
        '--work-dir', str(tmp_path / 'stage1'), '--resume', '--cfg-options',
        'randomness.seed=3'
    ]]


def test_sweep_refuses_checkpoints_before_the_warm_up(tmp_path, capsys):
    """No silent sweep of CB-CAMs from untrained prototypes; a stage 2
    without a best_mIoU checkpoint says which one it tests."""
    import pytest
    import torch
    from mmengine.config import Config
    tool = _tool()
    cfg = Config.fromfile(CONFIG)  # prototypes from step 100
    for step in (50, 100, 150):
        torch.save({'meta': dict(train_step=step), 'state_dict': {}},
                   tmp_path / f'iter_{step}.pth')
    chosen = tool._sweep_checkpoints(cfg, str(tmp_path), None)
    assert [osp.basename(c) for c in chosen] == ['iter_100.pth',
                                                 'iter_150.pth']
    (tmp_path / 'iter_100.pth').unlink()
    (tmp_path / 'iter_150.pth').unlink()
    with pytest.raises(SystemExit, match=r'past the prototype warm-up '
                       r'\(step 100; checkpoints at steps \[50\]\)'):
        tool._sweep_checkpoints(cfg, str(tmp_path), None)
    # asked for: the last one, with a warning
    last = tool._sweep_checkpoints(cfg, str(tmp_path), None, True)
    assert [osp.basename(c) for c in last] == ['iter_50.pth']
    assert 'WARNING: no stage-1 checkpoint is past' in capsys.readouterr().out
    assert tool.best_checkpoint(str(tmp_path)).endswith('iter_50.pth')
    assert 'no best_mIoU checkpoint' in capsys.readouterr().out


def test_theta_rule_reaches_the_pseudo_label_stage(tmp_path, monkeypatch):
    """--theta-rule (and its options) go to generate_pseudo_labels.py;
    'fixed' gets the last swept checkpoint; the rule is in the summary."""
    import json

    import pytest
    tool = _tool()
    calls = []

    def run(cmd, check, **kwargs):
        calls.append(cmd)
        if cmd[1].endswith('generate_pseudo_labels.py'):
            out = cmd[cmd.index('--out-dir') + 1]
            rule = cmd[cmd.index('--theta-rule') + 1]
            (tmp_path / 'pseudo_labels').mkdir(exist_ok=True)
            with open(osp.join(out, 'sweep.json'), 'w') as f:
                json.dump(dict(selection=dict(rule=rule, threshold=0.3)), f)
        elif cmd[1].endswith('test.py'):
            out = cmd[cmd.index('--metrics-out') + 1]
            with open(out, 'w') as f:
                json.dump({}, f)

    monkeypatch.setattr(tool_runs.subprocess, 'run', run)
    for name in ('iter_1.pth', 'iter_2.pth', 'DONE'):
        (tmp_path / 'stage1').mkdir(exist_ok=True)
        (tmp_path / 'stage1' / name).write_bytes(b'')
    ckpts = [str(tmp_path / 'stage1' / f'iter_{i}.pth') for i in (1, 2)]
    summary = tool.main([CONFIG, '--work-dir', str(tmp_path), '--stop-after',
                         'pseudo', '--sweep-checkpoints', *ckpts,
                         '--theta-rule', 'image-labels', '--min-fraction',
                         '0.02'])
    cmd = calls[-1]
    assert cmd[1].endswith('generate_pseudo_labels.py')
    assert cmd[3:5] == ckpts
    assert cmd[-4:] == ['--theta-rule', 'image-labels', '--min-fraction',
                        '0.02']
    assert summary['pseudo_label']['rule'] == 'image-labels'
    assert '| pseudo-label theta rule | image-labels |' in (
        tmp_path / 'summary.md').read_text()
    (tmp_path / 'pseudo_labels' / 'sweep.json').unlink()
    tool.main([CONFIG, '--work-dir', str(tmp_path), '--stop-after', 'pseudo',
               '--sweep-checkpoints', *ckpts, '--theta-rule', 'fixed',
               '--bg-threshold', '0.3'])
    cmd = calls[-1]
    assert cmd[3:5] == [ckpts[1], '--out-dir']
    assert cmd[-4:] == ['--theta-rule', 'fixed', '--bg-threshold', '0.3']
    with pytest.raises(SystemExit):  # fixed needs its theta
        tool.main([CONFIG, '--work-dir', str(tmp_path), '--theta-rule',
                   'fixed'])
