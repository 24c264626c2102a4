# Copyright (c) mmexact contributors. All rights reserved.
"""train -> --resume -> test through the shipped tools, in subprocesses.

Runs without TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD: resuming and testing prove
the in-plugin checkpoint fix.
"""
import glob
import json
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from mmexact.testing import tiny_run_config

pytestmark = pytest.mark.e2e

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))



def _run(args, cwd):
    env = dict(os.environ)
    env.pop('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', None)
    env['PYTHONPATH'] = REPO
    out = subprocess.run([sys.executable] + args, cwd=cwd, env=env,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, (out.stdout[-3000:] + out.stderr[-5000:])
    return out.stdout + out.stderr


def _write_cfg(tmp_path, base, root, iters, name, head_in=16):
    cfg = tmp_path / name
    cfg.write_text(
        tiny_run_config(
            osp.join(REPO, 'configs', base), root, iters, val_interval=2,
            train_augment=[dict(type='SITSRandomFlip', prob=0.5)],
            head=f'decode_head=dict(in_channels={head_in})'))
    return str(cfg)


@pytest.mark.parametrize('layout', ['pastis24', 'raw'])
def test_train_resume_test(tmp_path, fake_pastis24, layout):
    if layout == 'pastis24':
        base, root = 'tsvit/tsvit_1xb48-100e_pastis24-24x24.py', fake_pastis24
    else:
        base, root = 'tsvit/tsvit_1xb48-100e_pastis-24x24.py', osp.join(
            fake_pastis24, 'raw')
    work = str(tmp_path / 'work')
    cfg4 = _write_cfg(tmp_path, base, root, 4, 'tiny4.py')
    log = _run([osp.join(REPO, 'tools', 'train.py'), cfg4, '--work-dir', work],
               tmp_path)
    assert 'mIoU' in log
    assert osp.isfile(osp.join(work, 'iter_4.pth'))
    assert osp.isfile(osp.join(work, 'last_checkpoint'))

    cfg6 = _write_cfg(tmp_path, base, root, 6, 'tiny6.py')
    log = _run([osp.join(REPO, 'tools', 'train.py'), cfg6, '--work-dir', work,
                '--resume'], tmp_path)
    assert 'Resumed' in log or 'resumed' in log
    assert 'Iter(train) [5/6]' in log and 'Iter(train) [1/6]' not in log
    assert osp.isfile(osp.join(work, 'iter_6.pth'))

    out_dir, show_dir = tmp_path / 'pred', tmp_path / 'show'
    log = _run([osp.join(REPO, 'tools', 'test.py'), cfg6,
                osp.join(work, 'iter_6.pth'), '--work-dir', work, '--out',
                str(out_dir), '--show-dir', str(show_dir)], tmp_path)
    assert 'mIoU' in log
    preds = sorted(glob.glob(str(out_dir / '*.png')))
    assert [osp.basename(p) for p in preds] == [
        f'10004_{j}.png' for j in range(4)]  # test split: fold 5
    assert np.array(Image.open(preds[0])).shape == (24, 24)
    # --show-dir: drawn through the visualizer into its Local backend
    shows = sorted(glob.glob(str(show_dir / 'vis_data' / 'vis_image' /
                                 '*.png')))
    assert [osp.basename(p) for p in shows] == [
        f'test_10004_{j}_0.png' for j in range(4)]
    im = np.array(Image.open(shows[0]))
    assert im.shape[0] == 24 * 8 and im.shape[2] == 3
    assert im.shape[1] == 3 * 24 * 8 + 2 * 4  # RGB | GT | prediction


def test_fcn_head_config_trains_and_tests(tmp_path, fake_pastis24):
    """TSViT feature maps under mmseg's stock FCNHead, through the tools."""
    work = str(tmp_path / 'work')
    cfg = _write_cfg(tmp_path, 'tsvit/tsvit-fcn_1xb48-100e_pastis24-24x24.py',
                     fake_pastis24, 2, 'fcn.py', head_in=19 * 16)
    log = _run([osp.join(REPO, 'tools', 'train.py'), cfg, '--work-dir', work],
               tmp_path)
    assert 'decode.loss_ce' in log and 'mIoU' in log
    log = _run([osp.join(REPO, 'tools', 'test.py'), cfg,
                osp.join(work, 'iter_2.pth'), '--work-dir', work], tmp_path)
    assert 'mIoU' in log
