# Copyright (c) mmexact contributors. All rights reserved.
"""CAM + PAMR and CAM + TAAP configs: refiners after the vanilla CAM head,
evaluated through tools/test.py and the threshold sweep of
tools/exact/generate_pseudo_labels.py on a vanilla-CAM checkpoint trained by
tools/train.py."""
import glob
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
from mmengine.config import Config

from mmexact.testing import tiny_run_config
from mmseg.registry import MODELS

pytestmark = pytest.mark.e2e

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CAM = osp.join(REPO, 'configs', 'cam')
SUFFIXES = ('1xb48-20e_pastis24-24x24', '1xb48-20e_pastis-24x24',
            '1xb16-8e_demo-24x24')


@pytest.mark.parametrize('suffix', SUFFIXES)
def test_refiner_configs_are_the_vanilla_cam_plus_a_refiner(suffix):
    vanilla = Config.fromfile(osp.join(CAM, f'cam_tsvit_{suffix}.py'))
    ref = MODELS.build(vanilla.model).state_dict()
    for name, refiner, guide, mix in (('pamr', 'PAMR', 'bands', 1.0),
                                      ('taap', 'TemporalAffinityRefiner',
                                       'temporal_clue', 0.5)):
        cfg = Config.fromfile(osp.join(CAM, f'cam-{name}_tsvit_{suffix}.py'))
        head = cfg.model.decode_head
        assert head.type == 'SITSCAMHead'
        assert head.cam_refiner.type == refiner
        assert (head.cam_refiner_guide, head.cam_refiner_mix) == (guide, mix)
        assert cfg.model.backbone.with_temporal_attention == (name == 'taap')
        for key in ('train_dataloader', 'train_cfg', 'optim_wrapper',
                    'param_scheduler'):
            assert cfg[key] == vanilla[key], (name, key)
        # same weights: a vanilla-CAM checkpoint loads unchanged
        state = MODELS.build(cfg.model).state_dict()
        assert {k: v.shape for k, v in state.items()} == {
            k: v.shape for k, v in ref.items()}


DRIVER = '''
import json, runpy, sys
tools = json.loads(sys.argv[1])
train = runpy.run_path(tools["train"])["main"]
test = runpy.run_path(tools["test"])["main"]
sweep = runpy.run_path(tools["sweep"])["main"]
job = json.loads(sys.argv[2])
train([job["vanilla"], "--work-dir", job["work"]])
ckpt = job["work"] + "/iter_2.pth"
for name, cfg in job["refined"].items():
    test([cfg, ckpt, "--work-dir", job["work"] + "/" + name,
          "--metrics-out", job["work"] + "/" + name + ".json"])
    sweep([cfg, ckpt, "--out-dir", job["work"] + "/sweep_" + name,
           "--select", "miou", "--batch-size", "4"])
'''


def test_refined_cams_through_the_tools(tmp_path, fake_pastis24):
    def write(name, base):
        path = tmp_path / f'{name}.py'
        path.write_text(tiny_run_config(
            osp.join(CAM, base), fake_pastis24, 2, max_seq_len=6))
        return str(path)

    job = dict(
        vanilla=write('vanilla', 'cam_tsvit_1xb48-20e_pastis24-24x24.py'),
        refined={
            n: write(n, f'cam-{n}_tsvit_1xb48-20e_pastis24-24x24.py')
            for n in ('pamr', 'taap')
        },
        work=str(tmp_path / 'work'))
    tools = {k: osp.join(REPO, 'tools', f'{v}.py') for k, v in dict(
        train='train', test='test',
        sweep='exact/generate_pseudo_labels').items()}
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS='1')
    env.pop('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', None)
    out = subprocess.run(
        [sys.executable, '-c', DRIVER, json.dumps(tools), json.dumps(job)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-5000:]
    for name in ('pamr', 'taap'):
        with open(osp.join(job['work'], f'{name}.json')) as f:
            metrics = json.load(f)
        assert 0 <= metrics['mIoU'] <= 100
        with open(osp.join(job['work'], f'sweep_{name}', 'sweep.json')) as f:
            sweep = json.load(f)
        # the same 60-threshold sweep as Exact's, on folds 1-3 (12 windows)
        assert len(sweep['rows']) == 60
        assert sweep['meta']['num_windows'] == 12
        assert sweep['selection']['criterion'] == 'miou'
        assert sweep['selection']['mIoU'] == max(
            r['mIoU'] for r in sweep['rows'])
        pngs = glob.glob(osp.join(job['work'], f'sweep_{name}', '*.png'))
        assert len(pngs) == 12
