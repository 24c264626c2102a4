# Copyright (c) mmexact contributors. All rights reserved.
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch

from mmexact.engine import AutocastOptimWrapper
from mmexact.testing import tiny_run_config
from mmseg.registry import OPTIM_WRAPPERS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_forward_in_bf16_parameters_and_gradients_in_fp32():
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 3)
    wrapper = OPTIM_WRAPPERS.build(
        dict(type='AutocastOptimWrapper',
             optimizer=torch.optim.SGD(model.parameters(), lr=0.1)))
    assert isinstance(wrapper, AutocastOptimWrapper)
    assert wrapper.cast_dtype == torch.bfloat16
    before = model.weight.detach().clone()
    x = torch.randn(5, 4)
    with wrapper.optim_context(model):
        out = model(x)
    assert out.dtype == torch.bfloat16
    wrapper.update_params(out.float().sum())
    assert model.weight.dtype == torch.float32
    # SGD step with the gradient of the bf16 matmul: the inputs rounded to
    # bf16, summed in fp32, the result rounded to bf16 (then fp32 update)
    grad = x.bfloat16().float().sum(0).bfloat16().float()
    want = before - 0.1 * grad[None]
    torch.testing.assert_close(model.weight, want, atol=1e-6, rtol=0)
    # the fp32 gradient would not do (its bf16 rounding is visible)
    assert not torch.allclose(model.weight, before - 0.1 * x.sum(0)[None],
                              atol=1e-6, rtol=0)
    with pytest.raises(ValueError, match='dtype'):
        AutocastOptimWrapper(dtype='float64',
                             optimizer=torch.optim.SGD(model.parameters(),
                                                       lr=0.1))


@pytest.mark.e2e
def test_train_tool_amp_on_cpu(tmp_path, fake_pastis24):
    cfg = tmp_path / 'cfg.py'
    cfg.write_text(tiny_run_config(
        osp.join(REPO, 'configs', 'exact', 'exact_tsvit_pastis.py'),
        fake_pastis24, 2, checkpoint_interval=2,
        head='decode_head=dict(in_channels=16, proto_start_iter=2)'))
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS='1')
    out = subprocess.run(
        [sys.executable, osp.join(REPO, 'tools', 'train.py'), str(cfg),
         '--amp', '--work-dir', str(tmp_path / 'w')],
        capture_output=True, text=True, env=env, timeout=600)
    log = out.stdout + out.stderr
    assert out.returncode == 0, log[-4000:]
    assert "'type': 'AutocastOptimWrapper'" in log or \
        "type='AutocastOptimWrapper'" in log
    assert (tmp_path / 'w' / 'iter_2.pth').is_file()
