# Copyright (c) mmexact contributors. All rights reserved.
"""The configs of ``tools/demo/run_demo.py --mini`` and the options the demo
tools pass: the mini configs are the demo configs with the settings that
``--mini`` used to pass as ``--cfg-options`` (same effective configs), and
the data options find the pipeline steps by type."""
import argparse
import importlib.util
import os.path as osp

import pytest
import torch
from mmengine.config import Config, DictAction

from mmexact.engine import WarmupCosineEpochLR
from mmexact.utils import data_root_options, pseudo_label_options

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = osp.join(REPO, 'configs')

# what tools/demo/run_demo.py --mini passed before its configs existed (with its
# data options): every training and test, stage 1 (Exact, vanilla CAM),
# Exact's stage 1, stage 2 and the fully supervised TSViT
FORMER_MINI = [
    'train_dataloader.batch_size=8', 'train_cfg.base_batch_size=8',
    'auto_scale_lr.base_batch_size=8',
    'train_dataloader.sampler.type=InfiniteSampler'
] + [f'{k}_dataloader.dataset.pipeline.2.max_seq_len=16'
     for k in ('train', 'val', 'test')]
FORMER_STAGE1 = [
    'train_cfg.max_epochs=20', 'param_scheduler.0.end=20',
    'param_scheduler.0.warmup_epochs=2',
    'default_hooks.checkpoint.interval=20'
]
FORMER_SEG = [
    'model.backbone.temporal_depth=1', 'optim_wrapper.optimizer.lr=3e-3',
    'train_cfg.max_epochs=20', 'param_scheduler.0.end=20',
    'train_cfg.val_interval=80', 'default_hooks.checkpoint.interval=80'
]
# the demo configs' warm-up before it became 1/8 of the schedule
FORMER_DEMO = [
    'param_scheduler.0.warmup_ratio=None', 'param_scheduler.0.warmup_epochs=1'
]
MINIS = {  # mini config: demo config, its former options
    'exact/exact_tsvit_1xb8-20e_demo-mini-24x24.py':
    ('exact/exact_tsvit_1xb16-8e_demo-24x24.py', FORMER_STAGE1 +
     ['model.decode_head.proto_start_iter=60']),
    'cam/cam_tsvit_1xb8-20e_demo-mini-24x24.py':
    ('cam/cam_tsvit_1xb16-8e_demo-24x24.py', FORMER_STAGE1),
    'tsvit/tsvit_1xb8-20e_demo-mini-24x24.py':
    ('tsvit/tsvit_1xb16-8e_demo-24x24.py', FORMER_SEG),
    'exact/exact-stage2_tsvit_1xb8-20e_demo-mini-24x24.py':
    ('exact/exact-stage2_tsvit_1xb16-8e_demo-24x24.py', FORMER_SEG),
}
# top-level variables of the config files, read by no tool or Runner
# (stage2_config names the mini's stage 2)
HELPERS = ('data_root', 'max_epochs', 'max_seq_len', 'train_pipeline',
           'test_pipeline', 'pseudo_label_dir', 'stage2_config')


def _run_demo():
    spec = importlib.util.spec_from_file_location(
        '_tool_run_demo', osp.join(REPO, 'tools', 'demo', 'run_demo.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _merged(path: str, opts) -> Config:
    return _merge(Config.fromfile(path), opts)


def _merge(cfg: Config, opts) -> Config:
    """``cfg`` with ``--cfg-options`` ``opts`` merged in (as the tools)."""
    parsed = argparse.Namespace()
    DictAction([], 'opts')(None, parsed, list(opts))
    cfg.merge_from_dict(parsed.opts)
    return cfg


def _schedule(cfg: Config) -> dict:
    """The built scheduler's numbers (``end`` as the Runner defaults it)."""
    kwargs = dict(cfg.param_scheduler[0])
    for key in ('type', 'by_epoch', 'convert_to_iter_based'):
        kwargs.pop(key)
    kwargs.setdefault('end', cfg.train_cfg.max_epochs)
    optim = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))],
                              lr=cfg.optim_wrapper.optimizer.lr)
    sched = WarmupCosineEpochLR(optim, **kwargs)
    return dict(total=sched.total_epochs, warmup=sched.warmup_epochs,
                start=sched.warmup_start_lr, eta_min=sched.eta_min,
                cosine_from_warmup_end=sched.cosine_from_warmup_end)


def _effective(cfg: Config) -> dict:
    out = {k: v for k, v in cfg.to_dict().items()
           if k not in HELPERS and k != 'param_scheduler'}
    out['schedule'] = _schedule(cfg)
    return out


@pytest.mark.parametrize('mini', sorted(MINIS))
def test_mini_configs_are_the_former_options(mini):
    """Config + data options of each mini run = demo config (with its former
    warm-up) + data options + the former positional options, except for
    the file's helpers."""
    demo, former = MINIS[mini]
    tool = _run_demo()
    root = '/data/mini'
    new = _merged(osp.join(CONFIGS, mini),
                  tool.data_options(osp.join(CONFIGS, mini), root))
    old = _merged(osp.join(CONFIGS, demo),
                  tool.data_options(osp.join(CONFIGS, demo), root) +
                  FORMER_DEMO + FORMER_MINI + former)
    if 'stage2' in mini:  # as tools/exact/run_exact_pipeline.py points them
        new, old = (_merge(c, pseudo_label_options(c, '/pl'))
                    for c in (new, old))
    assert _effective(new) == _effective(old)
    assert 'end' not in new.param_scheduler[0]  # it follows max_epochs


def test_mini_run_configs():
    exact = Config.fromfile(
        osp.join(CONFIGS, 'exact', 'exact_tsvit_1xb8-20e_demo-mini-24x24.py'))
    cam = Config.fromfile(
        osp.join(CONFIGS, 'cam', 'cam_tsvit_1xb8-20e_demo-mini-24x24.py'))
    # the vanilla CAM's stage 1 has Exact's schedule and data
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader',
                'train_cfg', 'param_scheduler', 'optim_wrapper',
                'auto_scale_lr', 'default_hooks'):
        assert exact[key] == cam[key], key
    assert osp.isfile(osp.join(CONFIGS, 'exact', exact.stage2_config))
    assert _schedule(exact)['total'] == 20 and \
        _schedule(exact)['warmup'] == 2
    # the configs tools/demo/run_demo.py --mini runs
    tool = _run_demo()
    assert {k: osp.relpath(v, CONFIGS) for k, v in
            tool.MINI_CONFIGS.items()} == dict(
                exact='exact/exact_tsvit_1xb8-20e_demo-mini-24x24.py',
                cam='cam/cam_tsvit_1xb8-20e_demo-mini-24x24.py',
                full='tsvit/tsvit_1xb8-20e_demo-mini-24x24.py')
    assert tool.stage2_config(tool.MINI_CONFIGS['exact']) == osp.join(
        CONFIGS, 'exact', 'exact-stage2_tsvit_1xb8-20e_demo-mini-24x24.py')


def test_data_options_find_the_steps_by_type(tmp_path):
    base = osp.join(CONFIGS, 'tsvit', 'tsvit_1xb16-8e_demo-24x24.py')
    cfg = tmp_path / 'cfg.py'
    # a pipeline with one more step in front: NormalizeSITS is step 2
    cfg.write_text(
        f'_base_ = [{base!r}]\n'
        'pipeline = [dict(type="LoadSITSSample"), '
        'dict(type="SITSRandomFlip", prob=0.5), '
        'dict(type="NormalizeSITS", norm_file="x.json"), '
        'dict(type="PadOrCutSequence", max_seq_len=8), '
        'dict(type="AppendDayOfYear"), dict(type="PackSITSInputs")]\n'
        'train_dataloader = dict(dataset=dict(pipeline=pipeline))\n')
    opts = _run_demo().data_options(str(cfg), '/d')
    assert opts == data_root_options(str(cfg), '/d')
    assert sorted(opts) == sorted([
        'data_root=/d', 'train_dataloader.dataset.data_root=/d',
        'train_dataloader.dataset.pipeline.2.norm_file=/d/NORM_S2_patch.json',
        'val_dataloader.dataset.data_root=/d',
        'val_dataloader.dataset.pipeline.1.norm_file=/d/NORM_S2_patch.json',
        'test_dataloader.dataset.data_root=/d',
        'test_dataloader.dataset.pipeline.1.norm_file=/d/NORM_S2_patch.json'
    ])
    merged = _merged(str(cfg), opts)
    steps = merged.train_dataloader.dataset.pipeline
    assert [s.get('norm_file') for s in steps] == [
        None, None, '/d/NORM_S2_patch.json', None, None, None]
