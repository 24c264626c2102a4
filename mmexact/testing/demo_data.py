# Copyright (c) mmexact contributors. All rights reserved.
"""The generated data of ``make demo`` and its miniature (``--mini``),
shared by ``tools/demo/run_demo.py`` and ``tools/demo/run_baselines.py``."""
import os.path as osp

from .synthetic import SyntheticPASTISConfig, make_synthetic_pastis

__all__ = ['DEMO_DATA', 'DEMO_MINI', 'make_demo_data']

#: the demo: small patches, a realistic but restricted crop set (the eight
#: most common PASTIS crops) so that a few CPU minutes can learn it
DEMO_DATA = dict(num_patches=100, size=72, min_dates=20, max_dates=28,
                 crop_classes=(1, 2, 3, 4, 5, 7, 8, 9), seed=0)
#: the miniature (tests/test_tools/test_demo_mini.py): the demo's crops on
#: 24 patches of 48 x 48 pixels with 12-16 dates
DEMO_MINI = dict(num_patches=24, size=48, min_dates=12, max_dates=16,
                 crop_classes=(1, 2, 3, 4, 5, 7, 8, 9), seed=0)


def make_demo_data(root: str, spec: dict) -> str:
    """Write the raw-PASTIS layout of ``spec`` to ``root`` unless it is
    there (``metadata.geojson`` exists).

    Args:
        root (str): Output folder.
        spec (dict): ``num_patches``, ``size``, ``min_dates``,
            ``max_dates``, ``crop_classes`` and ``seed``.

    Returns:
        str: ``root``.
    """
    if osp.isfile(osp.join(root, 'metadata.geojson')):
        return root
    print(f'+ synthetic PASTIS data {spec} -> {root}', flush=True)
    make_synthetic_pastis(
        root,
        SyntheticPASTISConfig(
            num_patches=spec['num_patches'],
            size=spec['size'],
            seed=spec['seed'],
            seq_len=(spec['min_dates'], spec['max_dates']),
            crop_classes=spec['crop_classes']))
    return root
