# Copyright (c) mmexact contributors. All rights reserved.
"""SIGKILL mid-run + --resume ends exactly where an uninterrupted run ends."""
import os
import os.path as osp
import re
import signal
import subprocess
import sys
import time

import pytest
import torch

from mmexact.testing import tiny_run_config

pytestmark = pytest.mark.e2e

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

def _config(root, mode, checkpoint_interval=4):
    return tiny_run_config(
        osp.join(REPO, 'configs', 'exact', 'exact_tsvit_pastis.py'), root,
        14, checkpoint_interval=checkpoint_interval,
        train_augment=[dict(type='SITSRandomFlip', prob=0.5)],
        random_subsample=True,
        head="decode_head=dict(in_channels=16, proto_start_iter=2, "
        f"prototypes=dict(mode='{mode}'))")


def _cmd(cfg, work, resume=False):
    return [sys.executable, osp.join(REPO, 'tools', 'train.py'), cfg,
            '--work-dir', work] + (['--resume'] if resume else [])


def _env():
    return dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS='1')


def _compare(a, b):
    ca = torch.load(a, map_location='cpu', weights_only=False)
    cb = torch.load(b, map_location='cpu', weights_only=False)
    assert ca['meta']['iter'] == cb['meta']['iter'] == 14
    sa, sb = ca['state_dict'], cb['state_dict']
    assert sa.keys() == sb.keys()
    for k in sa:
        assert torch.equal(sa[k], sb[k]), k
    oa, ob = ca['optimizer']['state'], cb['optimizer']['state']
    for i in oa:
        for k in oa[i]:
            assert torch.equal(torch.as_tensor(oa[i][k]),
                               torch.as_tensor(ob[i][k])), (i, k)
    assert ca['param_schedulers'] == cb['param_schedulers']


@pytest.mark.parametrize('mode', ['grad', 'ema'])
def test_sigkill_then_resume_is_bitwise_identical(tmp_path, fake_pastis24,
                                                  mode):
    cfg = tmp_path / 'cfg.py'
    cfg.write_text(_config(fake_pastis24, mode))
    ref, killed = str(tmp_path / 'ref'), str(tmp_path / 'killed')
    done = subprocess.run(_cmd(str(cfg), ref), env=_env(),
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]

    proc = subprocess.Popen(_cmd(str(cfg), killed), env=_env(),
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    marker = osp.join(killed, 'last_checkpoint')
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if osp.isfile(marker) and 'iter_8' in open(marker).read():
            proc.send_signal(signal.SIGKILL)  # after the prototype warm-up
            break
        time.sleep(0.01)
    assert proc.wait(timeout=60) == -signal.SIGKILL, 'run ended before kill'
    assert not osp.isfile(osp.join(killed, 'iter_14.pth'))

    again = subprocess.run(_cmd(str(cfg), killed, resume=True), env=_env(),
                           capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-3000:]
    assert 'Resumed' in again.stdout + again.stderr or \
        'resumed' in again.stdout + again.stderr
    _compare(osp.join(ref, 'iter_14.pth'), osp.join(killed, 'iter_14.pth'))


def test_non_finite_loss_stops_before_checkpoint(tmp_path, fake_pastis24):
    """A diverging run stops at the first NaN loss, names the iteration and
    samples, and writes no checkpoint of that iteration."""
    cfg = tmp_path / 'cfg.py'
    cfg.write_text(
        _config(fake_pastis24, 'grad', checkpoint_interval=1) +
        "optim_wrapper = dict(optimizer=dict(lr=1e30))\n"
        "param_scheduler = []\n")
    out = subprocess.run(_cmd(str(cfg), str(tmp_path / 'work')), env=_env(),
                         capture_output=True, text=True, timeout=600)
    log = out.stdout + out.stderr
    assert out.returncode != 0
    m = re.search(r'non-finite loss at iteration (\d+): .*batch samples: '
                  r"\['(\d+_\d)', '(\d+_\d)'\]", log)
    assert m, log[-3000:]
    bad = int(m.group(1))
    assert bad >= 2  # the first step is finite, then it diverges
    assert (tmp_path / 'work' / f'iter_{bad - 1}.pth').is_file()
    assert not (tmp_path / 'work' / f'iter_{bad}.pth').exists()
