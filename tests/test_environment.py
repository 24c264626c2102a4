# Copyright (c) mmexact contributors. All rights reserved.
"""The pinned toolchain is what is installed (full mmcv build, torch)."""
import importlib
import sys

import mmcv
import torch


def test_mmcv_full_build():
    assert mmcv.__version__ == '2.1.0'
    ext = importlib.import_module('mmcv._ext')  # compiled ops must exist
    ops = importlib.import_module('mmcv.ops')
    assert ext.__file__.endswith('.so')
    assert ops.__file__.endswith('ops/__init__.py')
    assert hasattr(ops, 'nms')


def test_versions():
    import mmengine
    import mmseg
    assert torch.__version__.split('+')[0] == '2.13.0'
    assert mmengine.__version__ == '0.10.7'
    assert mmseg.__version__ == '1.2.2'
    assert sys.version_info[:2] >= (3, 10)


def test_mmpretrain_builds_from_an_mmexact_config():
    """mmpretrain (needed for stage-1 multi-label metrics) imports and its
    components build through the registry from within the mmseg scope."""
    from mmengine.registry import METRICS
    metric = METRICS.build(dict(type='mmpretrain.AveragePrecision'))
    assert type(metric).__module__.startswith('mmpretrain.')
