# Copyright (c) mmexact contributors. All rights reserved.
"""Configs of the fully supervised SITS baselines (U-TAE, UNet3D, U-Net +
ConvLSTM, FPN + ConvLSTM, BiConvGRU): built, and trained + tested through
tools/train.py and tools/test.py on generated windows and whole patches."""
import glob
import json
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
from mmengine.config import Config
from PIL import Image

from mmexact.testing import tiny_run_config
from mmseg.registry import MODELS

pytestmark = pytest.mark.e2e

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = osp.join(REPO, 'configs')

# config stem -> (tiny backbone overrides, channels of the head input)
TINY = {
    'utae/utae': (dict(encoder_widths=(8, 8, 8, 16),
                       decoder_widths=(8, 8, 8, 16),
                       ltae=dict(embed_dims=16, num_heads=4, key_dims=2,
                                 mlp_channels=(16, ))), 8),
    'unet_convlstm/unet-convlstm': (dict(encoder_widths=(8, 8, 8, 16),
                                         decoder_widths=(8, 8, 8, 16),
                                         hidden_channels=8), 8),
    'unet3d/unet3d': (dict(base_channels=2), 4),
    'fpn_convlstm/fpn-convlstm': (dict(stem_channels=(8, 8),
                                       pyramid_channels=8,
                                       hidden_channels=8), 8),
    'biconvgru/biconvgru': (dict(embed_channels=8, hidden_channels=8), 16),
}
LAYOUTS = {
    # config suffix, data (fixture sub-folder), predictions per test sample
    'windows': ('_1xb48-100e_pastis24-24x24.py', '', (24, 24)),
    'whole': ('_1xb4-100e_pastis-128x128.py', 'raw', (48, 48)),
}
PARAMS = {  # full-size models with 19 classes (see the model base configs)
    'utae/utae': 1_082_035,
    'unet_convlstm/unet-convlstm': 1_515_315,
    'unet3d/unet3d': 1_547_795,
    'fpn_convlstm/fpn-convlstm': 1_150_939,
    'biconvgru/biconvgru': 4_440_787,
}


@pytest.mark.parametrize('stem', sorted(TINY))
def test_configs_build_published_models(stem):
    for suffix in ('_1xb48-100e_pastis24-24x24.py',
                   '_1xb4-100e_pastis-128x128.py'):
        cfg = Config.fromfile(osp.join(CONFIGS, stem + suffix))
        model = MODELS.build(cfg.model)
        assert sum(p.numel() for p in model.parameters()) == PARAMS[stem]
        assert cfg.model.decode_head.type == 'FCNHead'
        assert cfg.train_dataloader.batch_size == (
            48 if '1xb48' in suffix else 4)
        window = cfg.test_dataloader.dataset.get('window_size', 'n/a')
        assert window == ('n/a' if '1xb48' in suffix else None)


def test_demo_configs_have_the_tsvit_demo_budget():
    """Equal budgets: schedule, optimiser, data and batch of the TSViT demo."""
    ref = Config.fromfile(
        osp.join(CONFIGS, 'tsvit', 'tsvit_1xb16-8e_demo-24x24.py'))
    keys = ('train_cfg', 'param_scheduler', 'optim_wrapper', 'auto_scale_lr',
            'train_dataloader', 'val_dataloader', 'test_dataloader',
            'val_evaluator', 'default_hooks', 'custom_hooks', 'randomness')
    for stem in TINY:
        cfg = Config.fromfile(
            osp.join(CONFIGS, stem + '_1xb16-8e_demo-24x24.py'))
        for key in keys:
            assert cfg.get(key) == ref.get(key), (stem, key)
        MODELS.build(cfg.model)


DRIVER = '''
import json, runpy, sys
train = runpy.run_path(sys.argv[1])["main"]
test = runpy.run_path(sys.argv[2])["main"]
for cfg, work, out in json.loads(sys.argv[3]):
    train([cfg, "--work-dir", work])
    test([cfg, work + "/iter_2.pth", "--work-dir", work, "--out", out,
          "--metrics-out", work + "/metrics.json"])
'''


def test_train_and_test_through_the_tools(tmp_path, fake_pastis24):
    """2 iterations + test of every baseline on windows and whole patches.

    One interpreter runs the tools' ``main`` one config after the other
    (imports once); each run has its own config file and work dir.
    """
    runs = []
    for stem, (backbone, width) in sorted(TINY.items()):
        for layout, (suffix, sub, _) in LAYOUTS.items():
            name = f'{osp.basename(stem)}_{layout}'
            cfg = tmp_path / f'{name}.py'
            cfg.write_text(
                tiny_run_config(
                    osp.join(CONFIGS, stem + suffix),
                    osp.join(fake_pastis24, sub), 2, max_seq_len=6,
                    backbone=backbone,
                    head=f'decode_head=dict(in_channels={width}, '
                    f'channels={width})'))
            runs.append((str(cfg), str(tmp_path / name / 'work'),
                         str(tmp_path / name / 'pred')))
    # one thread: these tiny convolutions only lose to OpenMP's
    # synchronisation, all the more on a busy machine
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS='1')
    env.pop('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', None)
    out = subprocess.run(
        [sys.executable, '-c', DRIVER,
         osp.join(REPO, 'tools', 'train.py'),
         osp.join(REPO, 'tools', 'test.py'), json.dumps(runs)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-5000:]
    for (cfg, work, pred), layout in zip(runs, list(LAYOUTS) * len(TINY)):
        with open(osp.join(work, 'metrics.json')) as f:
            metrics = json.load(f)
        assert 0 <= metrics['mIoU'] <= 100 and 0 <= metrics['aAcc'] <= 100
        pngs = sorted(glob.glob(osp.join(pred, '*.png')))
        # test split = fold 5: patch 10004, as 4 windows or 1 whole patch
        expected = [f'10004_{j}.png' for j in range(4)] \
            if layout == 'windows' else ['10004.png']
        assert [osp.basename(p) for p in pngs] == expected, cfg
        shape = np.array(Image.open(pngs[0])).shape
        assert shape == LAYOUTS[layout][2], (cfg, shape)
