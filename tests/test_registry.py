# Copyright (c) mmexact contributors. All rights reserved.
import importlib
import subprocess
import sys

import mmexact
from mmseg.registry import (DATASETS, HOOKS, LOOPS, METRICS, MODELS,
                            PARAM_SCHEDULERS, TRANSFORMS)

EXPECTED = {
    MODELS: ['TSViT', 'TSViTHead', 'SITSEncoderDecoder',
             'SITSDataPreProcessor', 'CAMHead', 'CBCAMHead',
             'ClassPrototypes', 'ClueContrastiveLoss',
             'TemporalAffinityRefiner', 'SITSCAMSegmentor'],
    DATASETS: ['SITSSegDataset', 'PASTIS24Dataset', 'PASTISDataset',
               'MTLCCDataset'],
    TRANSFORMS: ['LoadSITSSample', 'NormalizeSITS', 'PadOrCutSequence',
                 'AppendDayOfYear', 'SITSRandomFlip', 'SITSRandomRot90',
                 'PackSITSInputs', 'DropNoDataFrames'],
    HOOKS: ['SITSVisualizationHook', 'NonFiniteLossHook',
            'RankConsistencyHook', 'RNGStateHook'],
    LOOPS: ['IterBasedEpochTrainLoop'],
    PARAM_SCHEDULERS: ['WarmupCosineEpochLR'],
    METRICS: ['SITSIoUMetric'],
}


def test_all_names_registered_in_mmseg_scope():
    for registry, names in EXPECTED.items():
        for name in names:
            cls = registry.get(name)
            assert cls is not None, name
            assert cls.__module__.startswith('mmexact.'), name


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


def test_reimport_is_idempotent():
    importlib.reload(mmexact)
    assert MODELS.get('TSViT') is not None
