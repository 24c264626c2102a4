# Copyright (c) mmexact contributors. All rights reserved.
"""Write a synthetic dataset in the raw PASTIS layout (and PASTIS24)."""
import json
import os
import os.path as osp
from concurrent.futures import ProcessPoolExecutor
from typing import Dict, List, Optional

import numpy as np

from mmexact.datasets.pastis24_converter import convert_pastis_to_pastis24
from .atmosphere import NODATA
from .calendar import TileCalendar, make_tile_calendar
from .config import SyntheticPASTISConfig
from .regions import region_of_tile
from .render import render_patch

__all__ = ['make_synthetic_pastis', 'patch_plan']

GENERATOR_VERSION = 1
_PIXEL_M = 10.  # Sentinel-2 10 m bands


def _rng(cfg: SyntheticPASTISConfig, *key: int) -> np.random.Generator:
    """Independent stream for (purpose, index): order-free determinism."""
    return np.random.default_rng(
        np.random.SeedSequence(cfg.seed, spawn_key=tuple(key)))


def patch_plan(cfg: SyntheticPASTISConfig) -> List[dict]:
    """Patch ids, tiles and folds (``cfg.folds``, or balanced 1..5
    shuffled by seed)."""
    if cfg.folds is not None:
        folds = cfg.folds
    else:
        folds = _rng(cfg, 2).permutation(cfg.num_patches) % 5 + 1
    plan = []
    for i in range(cfg.num_patches):
        tile, rank = i % cfg.num_tiles, i // cfg.num_tiles
        plan.append(dict(index=i, tile=tile, rank=rank, fold=int(folds[i]),
                         id=(tile + 1) * 10000 + rank))
    return plan


def _tiles(cfg: SyntheticPASTISConfig) -> List[TileCalendar]:
    return [make_tile_calendar(_rng(cfg, 0, k), cfg)
            for k in range(cfg.num_tiles)]


def _sun(cfg: SyntheticPASTISConfig, tile: int) -> np.ndarray:
    angle = _rng(cfg, 3, tile).uniform(0, 2 * np.pi)
    return np.array([np.sin(angle), np.cos(angle)])


def _geometry(cfg: SyntheticPASTISConfig, item: dict) -> dict:
    """A square MultiPolygon footprint in Lambert-93-like coordinates."""
    side = cfg.size * _PIXEL_M
    x0 = 350000. + 150000. * item['tile'] + side * (item['rank'] % 40)
    y0 = 6800000. - side * (item['rank'] // 40)
    ring = [[x0, y0], [x0 + side, y0], [x0 + side, y0 - side],
            [x0, y0 - side], [x0, y0]]
    return dict(type='MultiPolygon', coordinates=[[ring]])


def _band_sums(img: np.ndarray) -> np.ndarray:
    """(3, 10) count, sum and sum of squares of the valid values.

    No-data pixels are -10000 in every band: their contribution is
    subtracted from the plain sums (exact, integer arithmetic).
    """
    x = img.reshape(img.shape[0], img.shape[1], -1)
    invalid = int((x[:, 0] == NODATA).sum())
    count = np.full(x.shape[1], x.shape[0] * x.shape[2] - invalid)
    total = x.sum(axis=(0, 2), dtype=np.int64) - invalid * NODATA
    squares = np.einsum('tbi,tbi->b', x, x, dtype=np.int64) - \
        invalid * NODATA**2
    return np.stack([count, total, squares]).astype(np.float64)


def _make_patch(args) -> dict:
    """Render and write one patch (runs in a worker process)."""
    cfg, root, item, tile = args
    region = region_of_tile(item['tile'])
    out = render_patch(_rng(cfg, 1, item['index']), cfg, tile, region,
                       _sun(cfg, item['tile']))
    pid = item['id']
    np.save(osp.join(root, 'DATA_S2', f'S2_{pid}.npy'), out['img'])
    np.save(osp.join(root, 'ANNOTATIONS', f'TARGET_{pid}.npy'),
            out['target'])
    feature = dict(
        type='Feature',
        id=str(pid),
        properties={
            'ID_PATCH': pid,
            'Fold': item['fold'],
            'TILE': region['tile'] if item['tile'] < 4 else
            f'{region["tile"]}{item["tile"] // 4}',
            'N_Parcel': out['num_parcels'],
            'Parcel_Cover': round(out['parcel_cover'], 6),
            'dates-S2': {str(k): d
                         for k, d in enumerate(out['dates'])},
        },
        geometry=_geometry(cfg, item))
    return dict(feature=feature, sums=_band_sums(out['img']),
                fold=item['fold'])


def _norm_stats(results: List[dict]) -> Dict[str, dict]:
    """``NORM_S2_patch.json`` content: per-fold band mean and std."""
    total = sum(r['sums'] for r in results)
    stats = {}
    for k in range(1, 6):
        sums = [r['sums'] for r in results if r['fold'] == k]
        acc = sum(sums) if sums else total  # empty fold: all patches
        mean = acc[1] / acc[0]
        std = np.sqrt(np.maximum(acc[2] / acc[0] - mean**2, 0))
        stats[f'Fold_{k}'] = dict(mean=[round(float(v), 4) for v in mean],
                                  std=[round(float(v), 4) for v in std])
    return stats


def make_synthetic_pastis(root: str,
                          config: Optional[SyntheticPASTISConfig] = None,
                          pastis24: bool = False,
                          pastis24_root: Optional[str] = None,
                          progress: Optional[callable] = None,
                          **kwargs) -> str:
    """Generate a realistic synthetic PASTIS dataset.

    Writes ``DATA_S2/S2_<id>.npy`` (int16, T x 10 x H x W),
    ``ANNOTATIONS/TARGET_<id>.npy`` (uint8, 3 x H x W),
    ``metadata.geojson``, ``NORM_S2_patch.json`` (per-fold statistics of
    the generated values, no-data excluded; a fold without patches gets
    the statistics of all patches) and ``SYNTHETIC.json`` (the options).
    Same options, same bytes.

    Args:
        root (str): Output directory (created).
        config (SyntheticPASTISConfig, optional): Options; ``kwargs``
            build one when omitted.
        pastis24 (bool): Also write the PASTIS24 window layout.
        pastis24_root (str, optional): Where to write it; defaults to
            ``<root>/pastis24``.
        progress (callable, optional): Called with each patch id.
        **kwargs: Fields of :class:`SyntheticPASTISConfig`.

    Returns:
        str: ``root``.
    """
    if config is None:
        config = SyntheticPASTISConfig.from_kwargs(**kwargs)
    elif kwargs:
        raise TypeError('give either config or keyword options, not both')
    cfg = config
    os.makedirs(osp.join(root, 'DATA_S2'), exist_ok=True)
    os.makedirs(osp.join(root, 'ANNOTATIONS'), exist_ok=True)
    tiles = _tiles(cfg)
    jobs = [(cfg, root, item, tiles[item['tile']])
            for item in patch_plan(cfg)]
    results = []
    if cfg.num_workers > 1:
        with ProcessPoolExecutor(cfg.num_workers) as pool:
            for res in pool.map(_make_patch, jobs):
                results.append(res)
                if progress is not None:
                    progress(res['feature']['properties']['ID_PATCH'])
    else:
        for job in jobs:
            results.append(_make_patch(job))
            if progress is not None:
                progress(results[-1]['feature']['properties']['ID_PATCH'])
    meta = dict(
        type='FeatureCollection',
        crs=dict(type='name',
                 properties=dict(name='urn:ogc:def:crs:EPSG::2154')),
        features=[r['feature'] for r in results])
    with open(osp.join(root, 'metadata.geojson'), 'w') as f:
        json.dump(meta, f)
    with open(osp.join(root, 'NORM_S2_patch.json'), 'w') as f:
        json.dump(_norm_stats(results), f)
    with open(osp.join(root, 'SYNTHETIC.json'), 'w') as f:
        options = cfg.to_dict()
        options.pop('num_workers')  # does not change the output
        json.dump(dict(generator='mmexact.testing.synthetic',
                       version=GENERATOR_VERSION, config=options),
                  f, indent=1)
    if pastis24 or pastis24_root is not None:
        convert_pastis_to_pastis24(
            root, pastis24_root or osp.join(root, 'pastis24'))
    return root
