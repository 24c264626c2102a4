# Copyright (c) mmexact contributors. All rights reserved.
"""Tiny, deterministic PASTIS-format trees for tests and smoke runs.

Nothing here is realistic beyond the file formats: rectangles of random
classes on a background, a class-specific seasonal curve per band, noise.
It is just learnable enough for a few training iterations to move the
metrics. Writes in seconds.
"""
import json
import os
import os.path as osp
from typing import Optional, Sequence

import numpy as np

from mmexact.datasets.pastis24_converter import convert_pastis_to_pastis24
from mmexact.datasets.readers import dates_to_doy

__all__ = ['make_fake_pastis', 'make_fake_pastis24']


def _dates(rng: np.random.Generator, num: int) -> list:
    days = np.sort(rng.choice(np.arange(250, 250 + 365), num, replace=False))
    base = np.datetime64('2018-01-01')
    return [int(str(base + int(d)).replace('-', '')) for d in days]


def _labels(rng: np.random.Generator, size: int,
            classes: Sequence[int]) -> np.ndarray:
    sem = np.zeros((size, size), np.uint8)
    for _ in range(rng.integers(3, 7)):
        h, w = rng.integers(size // 6, size // 2, 2)
        y, x = rng.integers(0, size - h), rng.integers(0, size - w)
        sem[y:y + h, x:x + w] = rng.choice(classes)
    if rng.random() < 0.5:  # a void border strip
        sem[:, :2] = 19
    parcel = (sem > 0).astype(np.uint8) * rng.integers(1, 100)
    return np.stack([sem, parcel, parcel])


def _series(rng: np.random.Generator, sem: np.ndarray,
            doy: np.ndarray) -> np.ndarray:
    phase = np.linspace(0, 2 * np.pi, 20, endpoint=False)
    level = 800 + 150 * np.arange(10)
    season = np.sin(2 * np.pi * doy[:, None, None, None] / 365. +
                    phase[sem][None, None])
    img = level[None, :, None, None] * (1 + 0.5 * season)
    img = img + rng.normal(0, 60, img.shape)
    return np.clip(img, -10000, 32767).astype(np.int16)


def make_fake_pastis(root: str,
                     num_patches: int = 5,
                     size: int = 48,
                     num_frames: Sequence[int] = (6, 9),
                     classes: Sequence[int] = (1, 2, 3, 4, 5),
                     folds: Optional[Sequence[int]] = None,
                     seed: int = 0) -> str:
    """Write a raw-PASTIS-layout tree.

    Args:
        root (str): Output directory (created).
        num_patches (int): Patches, with IDs ``10000 + i``.
        size (int): Patch side (PASTIS: 128).
        num_frames (Sequence[int]): Inclusive range of T per patch.
        classes (Sequence[int]): Crop classes that may appear.
        folds (Sequence[int], optional): Fold of each patch; defaults to
            ``i % 5 + 1``.
        seed (int): Random seed.

    Returns:
        str: ``root``.
    """
    rng = np.random.default_rng(seed)
    os.makedirs(osp.join(root, 'DATA_S2'), exist_ok=True)
    os.makedirs(osp.join(root, 'ANNOTATIONS'), exist_ok=True)
    features = []
    for i in range(num_patches):
        pid = 10000 + i
        t = int(rng.integers(num_frames[0], num_frames[1] + 1))
        dates = _dates(rng, t)
        doy = dates_to_doy(dates)
        target = _labels(rng, size, classes)
        np.save(osp.join(root, 'ANNOTATIONS', f'TARGET_{pid}.npy'), target)
        np.save(
            osp.join(root, 'DATA_S2', f'S2_{pid}.npy'),
            _series(rng, target[0], doy))
        fold = folds[i] if folds is not None else i % 5 + 1
        features.append(
            dict(
                type='Feature',
                id=str(pid),
                geometry=None,
                properties={
                    'ID_PATCH': pid,
                    'Fold': int(fold),
                    'TILE': 't30uxv',
                    'N_Parcel': 1,
                    'Parcel_Cover': 0.5,
                    'dates-S2': {str(k): d
                                 for k, d in enumerate(dates)}
                }))
    with open(osp.join(root, 'metadata.geojson'), 'w') as f:
        json.dump(dict(type='FeatureCollection', features=features), f)
    stats = {
        f'Fold_{k}': dict(
            mean=(800 + 150 * np.arange(10)).tolist(),
            std=(400 + 40 * np.arange(10)).tolist())
        for k in range(1, 6)
    }
    with open(osp.join(root, 'NORM_S2_patch.json'), 'w') as f:
        json.dump(stats, f)
    return root


def make_fake_pastis24(root: str,
                       label_channels: int = 1,
                       **kwargs) -> str:
    """Write a PASTIS24 tree (via a raw tree in ``<root>/raw``).

    Args:
        root (str): Output directory; the PASTIS24 layout goes here.
        label_channels (int): 1 (Exact layout) or 3 (TSViT release).
        **kwargs: Passed to :func:`make_fake_pastis`.

    Returns:
        str: ``root``.
    """
    raw = make_fake_pastis(osp.join(root, 'raw'), **kwargs)
    convert_pastis_to_pastis24(raw, root, label_channels=label_channels)
    return root


def main(argv=None) -> None:
    """``python -m mmexact.testing.fake_pastis OUT [--pastis24]``."""
    import argparse
    parser = argparse.ArgumentParser(description='Write a tiny fake PASTIS '
                                     'tree (raw layout, or PASTIS24).')
    parser.add_argument('out')
    parser.add_argument('--pastis24', action='store_true')
    parser.add_argument('--num-patches', type=int, default=5)
    parser.add_argument('--size', type=int, default=48)
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    make = make_fake_pastis24 if args.pastis24 else make_fake_pastis
    print(make(args.out, num_patches=args.num_patches, size=args.size,
               seed=args.seed))


if __name__ == '__main__':
    main()
