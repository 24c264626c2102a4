# Copyright (c) mmexact contributors. All rights reserved.
import json
import os.path as osp
import subprocess
import sys

import pytest

import mmexact.exact  # noqa: F401  (Exact's components)
from mmseg.registry import (DATASETS, HOOKS, LOOPS, METRICS, MODELS,
                            PARAM_SCHEDULERS, TRANSFORMS)

EXACT = ['CBCAMHead', 'ExactClassPrototypes', 'ClueContrastiveLoss',
         'RefinementConsistencyLoss']
EXPECTED = {
    MODELS: ['TSViT', 'TSViTHead', 'SITSEncoderDecoder',
             'SITSDataPreProcessor', 'SITSCAMHead',
             'TemporalAffinityRefiner', 'SITSCAMSegmentor'],
    DATASETS: ['SITSSegDataset', 'PASTIS24Dataset', 'PASTISDataset',
               'MTLCCDataset'],
    TRANSFORMS: ['LoadSITSSample', 'NormalizeSITS', 'PadOrCutSequence',
                 'AppendDayOfYear', 'SITSRandomFlip', 'SITSRandomRot90',
                 'PackSITSInputs', 'DropNoDataFrames', 'GenerateImageLabels'],
    HOOKS: ['SITSVisualizationHook', 'NonFiniteLossHook',
            'RankConsistencyHook', 'RNGStateHook', 'SITSTrainStepHook',
            'DataContractHook'],
    LOOPS: ['IterBasedEpochTrainLoop'],
    PARAM_SCHEDULERS: ['WarmupCosineEpochLR'],
    METRICS: ['SITSIoUMetric', 'ThresholdSweepMetric',
              'ImageLabelSweepMetric'],
}


def test_all_names_registered_in_mmseg_scope():
    for registry, names in list(EXPECTED.items()) + [(MODELS, EXACT)]:
        for name in names:
            cls = registry.get(name)
            assert cls is not None, name
            assert cls.__module__.startswith('mmexact.'), name


@pytest.mark.slow
def test_names_do_not_collide_with_mmseg():
    """Run in a fresh interpreter: mmseg alone, then mmexact on top."""
    code = (
        'import mmseg.models, mmseg.datasets, mmseg.engine, mmseg.evaluation\n'
        'from mmseg.registry import MODELS, DATASETS, TRANSFORMS, HOOKS, METRICS\n'
        'before = {r.name: set(r.module_dict) for r in '
        '(MODELS, DATASETS, TRANSFORMS, HOOKS, METRICS)}\n'
        'import mmexact\n'
        'for r in (MODELS, DATASETS, TRANSFORMS, HOOKS, METRICS):\n'
        '    new = set(r.module_dict) - before[r.name]\n'
        '    mine = {k for k, v in r.module_dict.items()\n'
        '            if v.__module__.startswith("mmexact.")}\n'
        '    assert mine == new, (r.name, mine ^ new)\n'
        'print("ok")\n')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == 'ok'


REGISTRATION = '''
import importlib, json, sys
from mmengine.config import Config
from mmengine.registry import init_default_scope
assert 'mmexact' not in sys.modules
cfg = Config.fromfile(sys.argv[1])  # custom_imports = ['mmexact']
assert 'mmexact' in sys.modules, 'custom_imports did not import mmexact'
from mmseg import registry
regs = [getattr(registry, n) for n in (
    'MODELS', 'DATASETS', 'TRANSFORMS', 'HOOKS', 'LOOPS', 'PARAM_SCHEDULERS',
    'METRICS', 'VISUALIZERS')]
def snapshot():
    return {r.name: {k: id(v) for k, v in r.module_dict.items()
                     if v.__module__.startswith('mmexact.')} for r in regs}
before = snapshot()
import mmexact
importlib.reload(mmexact)
assert snapshot() == before, 'reloading mmexact re-registered components'
init_default_scope(cfg.default_scope)
model = registry.MODELS.build(cfg.model)
print(json.dumps(dict(
    names={k: sorted(v) for k, v in before.items()},
    model=type(model).__module__,
    params=sum(p.numel() for p in model.parameters()))))
'''


@pytest.mark.slow
def test_config_alone_registers_everything_once(tmp_path, repo_root):
    """A config's ``custom_imports`` registers mmexact in a fresh
    interpreter (nothing imported by hand), a later ``import mmexact`` and
    ``importlib.reload`` leave every registry entry the same object, and
    the config's model builds (1,657,476 parameters, exact-method §8.1)."""
    cfg = tmp_path / 'cfg.py'
    base = osp.join(repo_root, 'configs', '_base_')
    cfg.write_text(f"_base_ = [{osp.join(base, 'models', 'tsvit_seg.py')!r}, "
                   f"{osp.join(base, 'default_runtime.py')!r}]\n")
    out = subprocess.run([sys.executable, '-c', REGISTRATION, str(cfg)],
                         capture_output=True, text=True, cwd=str(tmp_path))
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    for registry, names in EXPECTED.items():
        assert set(names) <= set(result['names'][registry.name]), names
    # a generic config registers nothing of Exact
    assert not set(EXACT) & set(result['names'][MODELS.name])
    assert 'SITSLocalVisualizer' in result['names']['visualizer']
    assert result['model'].startswith('mmexact.')
    assert result['params'] == 1_657_476
