# Copyright (c) mmexact contributors. All rights reserved.
"""Every shipped stage-1 config family under ``tools/dist_train.sh`` with 2
CPU processes (gloo): DDP without unused-parameter search, prototype
learning starts (``loss_cbl > 0`` in the log) after the same number of
samples as on one process, and the schedule check passes.

The family configs are inherited as they are (base-batch schedule,
SITSTrainStepHook with its check, DDP wrapper) with a tiny backbone, small
generated data and a short schedule in iterations of a 4-sample batch:
prototype learning from step 3, checkpoints every 2 steps, 6 steps. Two
processes x 2 samples run 6 iterations; one process x 2 samples runs 12.
"""
import os
import os.path as osp
import re
import socket
import subprocess
import sys

import pytest
from mmengine.config import Config

from mmexact.testing import TINY_BACKBONE, make_fake_mtlcc, sits_pipeline

pytestmark = pytest.mark.e2e

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
FAMILIES = {
    'pastis24': 'exact/exact_tsvit_1xb48-20e_pastis24-24x24.py',
    'pastis': 'exact/exact_tsvit_1xb48-20e_pastis-24x24.py',
    'germany': 'exact/exact_tsvit_1xb48-20e_germany-24x24.py',
    'demo': 'exact/exact_tsvit_1xb16-8e_demo-24x24.py',
    'cam': 'cam/cam_tsvit_1xb16-8e_demo-24x24.py',
}
BASE_BATCH, START, STEPS = 4, 3, 6


def _config(family: str, root: str) -> str:
    backbone = dict(TINY_BACKBONE)
    head = 'in_channels=16'
    if family != 'cam':
        head += f', proto_start_iter={START}, chunk_size=2'
    if family == 'germany':
        backbone.update(in_channels=13, num_tokens=17)
    text = (f"_base_ = [{osp.join(REPO, 'configs', FAMILIES[family])!r}]\n"
            f"model = dict(backbone={backbone!r}, decode_head=dict({head}))\n"
            "loader = dict(batch_size=2, num_workers=0, "
            "persistent_workers=False)\n")
    dataset = f'data_root={root!r}'
    if family in ('pastis', 'demo', 'cam'):
        text += f'pipeline = {sits_pipeline(8)!r}\n'
        dataset += ', pipeline=pipeline'
    for split in ('train', 'val', 'test'):
        text += (f'{split}_dataloader = dict(**loader, '
                 f'dataset=dict({dataset}))\n')
    text += (
        "train_cfg = dict(_delete_=True, type='IterBasedEpochTrainLoop', "
        f"max_iters={STEPS}, val_interval=1000, "
        f"base_batch_size={BASE_BATCH})\n"
        "default_hooks = dict(logger=dict(interval=1), "
        "checkpoint=dict(interval=2, max_keep_ckpts=-1))\n")
    return text


@pytest.fixture(scope='module')
def roots(tmp_path_factory, fake_pastis24, fake_pastis):
    mtlcc = make_fake_mtlcc(
        str(tmp_path_factory.mktemp('mtlcc')), num_tiles=24,
        padded_len=20, season='data16', seed=0)
    return dict(pastis24=fake_pastis24, pastis=fake_pastis, germany=mtlcc,
                demo=fake_pastis, cam=fake_pastis)


def _free_port() -> str:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return str(s.getsockname()[1])


def _train(cfg: str, work: str, nproc: int) -> str:
    env = dict(os.environ, PYTHON=sys.executable, PORT=_free_port(),
               PYTHONPATH=REPO, OMP_NUM_THREADS='1')
    if nproc == 1:
        cmd = [sys.executable, osp.join(REPO, 'tools', 'train.py'), cfg]
    else:
        cmd = ['bash', osp.join(REPO, 'tools', 'dist_train.sh'), cfg,
               str(nproc)]
    out = subprocess.run(cmd + ['--work-dir', work], capture_output=True,
                         text=True, env=env, timeout=600)
    log = out.stdout + out.stderr
    assert out.returncode == 0, log[-5000:]
    return log


def _cbl_by_iter(log: str) -> dict:
    """Logged (rank-averaged) loss_cbl of every training iteration."""
    found = re.findall(
        r'Iter\(train\) \[\s*(\d+)/\s*(\d+)\].*?decode\.loss_cbl: ([-0-9.e]+)',
        log)
    return {int(i): float(v) for i, _, v in found}


def _first_cbl_sample(log: str, global_batch: int) -> int:
    cbl = _cbl_by_iter(log)
    assert cbl, 'no loss_cbl in the log'
    first = min(i for i, v in cbl.items() if v > 0)
    assert all(v == 0 for i, v in cbl.items() if i < first)
    assert all(v > 0 for i, v in cbl.items() if i >= first)
    return (first - 1) * global_batch  # samples seen before it


@pytest.mark.e2e
@pytest.mark.parametrize('family', list(FAMILIES))
def test_two_processes_pass_the_warm_up(tmp_path, roots, family):
    cfg = tmp_path / 'cfg.py'
    cfg.write_text(_config(family, roots[family]))
    log = _train(str(cfg), str(tmp_path / 'two'), 2)
    assert 'Distributed training: True' in log
    work = tmp_path / 'two'
    # the DDP wrapper the run used (the Runner dumps its config)
    wrapper = Config.fromfile(str(work / 'cfg.py')).model_wrapper_cfg
    assert wrapper['type'] == 'MMDistributedDataParallel'
    assert wrapper['find_unused_parameters'] is False
    # base batch 4 = 2 processes x 2: actual iterations = steps
    assert sorted(p.name for p in work.glob('iter_*.pth')) == [
        'iter_2.pth', 'iter_4.pth', 'iter_6.pth']
    if family == 'cam':  # no prototypes: trained under DDP, nothing unused
        assert 'loss_cbl' not in log
        return
    assert 'schedule: last step 6, checkpoints after steps [2, 4, 6]' in log
    two = _first_cbl_sample(log, 4)
    assert two == (START - 1) * BASE_BATCH  # 8 samples
    if family not in ('pastis24', 'demo'):
        return
    # one process x 2 samples: 12 iterations, checkpoints every 4, the
    # warm-up after the same 8 samples (iteration 5)
    log1 = _train(str(cfg), str(tmp_path / 'one'), 1)
    assert 'iteration counts of the config are scaled by 2' in log1
    assert sorted(p.name for p in (tmp_path / 'one').glob('iter_*.pth')) \
        == ['iter_12.pth', 'iter_4.pth', 'iter_8.pth']
    assert _first_cbl_sample(log1, 2) == two


def test_schedule_check_stops_a_run_that_misses_the_warm_up(
        tmp_path, roots):
    """8 processes x 48 on the 1 x 48 config, as a user would, but here
    the check catches a short schedule: prototype learning after the
    end."""
    text = _config('pastis24', roots['pastis24']).replace(
        f'proto_start_iter={START}', 'proto_start_iter=40')
    cfg = tmp_path / 'cfg.py'
    cfg.write_text(text)
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS='1')
    out = subprocess.run(
        [sys.executable, osp.join(REPO, 'tools', 'train.py'), str(cfg),
         '--work-dir', str(tmp_path / 'w')],
        capture_output=True, text=True, env=env, timeout=600)
    assert out.returncode != 0
    assert ('prototype learning starts at step 40 '
            '(decode_head.proto_start_iter) but training ends at step 6'
            ) in out.stderr
    assert not list((tmp_path / 'w').glob('iter_*.pth'))
