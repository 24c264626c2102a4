# Copyright (c) mmexact contributors. All rights reserved.
"""Parcel layout of one patch: irregular fields, background, void.

Fields are cells of a power diagram (a Voronoi diagram with random
weights, so sizes vary) computed in a rotated, anisotropically scaled
frame (elongated fields with a dominant direction per patch), over a
canvas larger than the patch so that fields cross its border. Random
neighbouring cells are merged (irregular, non-convex fields). A smooth
random field picks spatially clustered cells as non-agricultural
background (forest blocks, villages, water, grassland); another picks
their land cover. Some fields are bordered by one-pixel hedges or tracks
(background). Fields mostly outside the patch become void (19).
"""
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from .config import SyntheticPASTISConfig
from .covers import BACKGROUND_KINDS, HEDGE, TRACK
from .noise import smooth_field
from .regions import SIZE_PREFERENCE, SUBCODES, class_weights

__all__ = ['Layout', 'make_layout']

VOID = 19


@dataclass
class Layout:
    """Objects of a patch and the pixel-to-object map.

    Attributes:
        pid (np.ndarray): (H, W) int64 object index of each pixel.
        kind (np.ndarray): (P,) cover kind (class 1..18 or a background
            kind, see :mod:`.covers`).
        label (np.ndarray): (P,) semantic label 0..19.
        instance (np.ndarray): (P,) TARGET channel 1 (parcel number).
        subcode (np.ndarray): (P,) TARGET channel 2 (fine crop code).
        num_parcels (int): Declared parcels (crop or void) in the patch.
        parcel_cover (float): Fraction of pixels in declared parcels.
    """

    pid: np.ndarray
    kind: np.ndarray
    label: np.ndarray
    instance: np.ndarray
    subcode: np.ndarray
    num_parcels: int
    parcel_cover: float


def _power_cells(rng: np.random.Generator, canvas: int,
                 spacing: float) -> np.ndarray:
    """Cell index of each canvas pixel (anisotropic power diagram)."""
    aspect = rng.uniform(1., 2.6)
    angle = rng.uniform(0, np.pi)
    cos, sin, k = np.cos(angle), np.sin(angle), np.sqrt(aspect)
    yy, xx = np.mgrid[0:canvas, 0:canvas].reshape(2, -1).astype(np.float64)
    u = (cos * xx + sin * yy) / k
    v = (-sin * xx + cos * yy) * k
    gu = np.arange(u.min() - spacing, u.max() + spacing, spacing)
    gv = np.arange(v.min() - spacing, v.max() + spacing, spacing)
    su, sv = (a.ravel() for a in np.meshgrid(gu, gv))
    su = su + rng.uniform(-0.45, 0.45, su.size) * spacing
    sv = sv + rng.uniform(-0.45, 0.45, sv.size) * spacing
    extra = int(0.2 * su.size)  # additional small fields
    su = np.concatenate([su, rng.uniform(u.min(), u.max(), extra)])
    sv = np.concatenate([sv, rng.uniform(v.min(), v.max(), extra)])
    # Keep seeds that can own canvas pixels (inverse transform).
    sx = cos * su * k - sin * sv / k
    sy = sin * su * k + cos * sv / k
    keep = ((sx > -2 * spacing) & (sx < canvas + 2 * spacing) &
            (sy > -2 * spacing) & (sy < canvas + 2 * spacing))
    su, sv = su[keep], sv[keep]
    # Power weights, as a third coordinate: argmin |p - s|^2 - w_i.
    weight = rng.uniform(0, (0.45 * spacing)**2, su.size)
    lift = np.sqrt(weight.max() - weight)
    tree = cKDTree(np.stack([su, sv, lift], 1))
    _, cell = tree.query(np.stack([u, v, np.zeros_like(u)], 1))
    return cell.reshape(canvas, canvas)


def _adjacent_pairs(cell: np.ndarray) -> np.ndarray:
    """Unique (a, b), a < b, of 4-adjacent cells."""
    pairs = np.concatenate([
        np.stack([cell[:, :-1].ravel(), cell[:, 1:].ravel()], 1),
        np.stack([cell[:-1].ravel(), cell[1:].ravel()], 1)
    ])
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    return np.unique(np.sort(pairs, 1), axis=0)


def _union(pairs: np.ndarray, area: np.ndarray, cap: float) -> np.ndarray:
    """Join ``pairs`` of nodes unless the union would exceed ``cap``.

    Args:
        pairs (np.ndarray): (N, 2) node pairs, in the order to try.
        area (np.ndarray): (num,) area of each node.
        cap (float): Largest area of a joined component.

    Returns:
        np.ndarray: Compact component label of each node.
    """
    parent = np.arange(area.size)
    size = area.astype(np.float64).copy()

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in pairs:
        ra, rb = find(a), find(b)
        if ra != rb and size[ra] + size[rb] <= cap:
            lo, hi = min(ra, rb), max(ra, rb)
            parent[hi] = lo
            size[lo] += size[hi]
    roots = np.array([find(i) for i in range(area.size)])
    return np.unique(roots, return_inverse=True)[1]


def _merge(rng: np.random.Generator, cell: np.ndarray, rate: float,
           cap: float) -> np.ndarray:
    """Merge random adjacent cells (up to ``cap`` pixels); compact ids."""
    pairs = _adjacent_pairs(cell)
    pairs = pairs[rng.random(len(pairs)) < rate]
    area = np.bincount(cell.ravel())
    return _union(pairs, area, cap)[cell]


def _cell_mean(cell: np.ndarray, field: np.ndarray, area: np.ndarray
               ) -> np.ndarray:
    """Mean of ``field`` over each cell."""
    total = np.bincount(cell.ravel(), field.ravel(), minlength=area.size)
    return total / np.maximum(area, 1)


def _choose(rng: np.random.Generator, weights: np.ndarray) -> np.ndarray:
    """One categorical draw per row of ``weights`` (N, K)."""
    cum = np.cumsum(weights, 1)
    u = rng.random(len(weights)) * cum[:, -1]
    return np.minimum((cum < u[:, None]).sum(1), weights.shape[1] - 1)


def make_layout(rng: np.random.Generator, cfg: SyntheticPASTISConfig,
                region: dict) -> Layout:
    """Draw the parcel layout of one patch.

    Args:
        rng (np.random.Generator): Random stream of the patch.
        cfg (SyntheticPASTISConfig): Options.
        region (dict): Regional crop mix (see :mod:`.regions`).

    Returns:
        Layout: Objects and pixel map of the patch.
    """
    size = cfg.size
    spacing = rng.uniform(*cfg.parcel_spacing)
    margin = int(np.ceil(1.5 * spacing))
    canvas = size + 2 * margin
    inner = (slice(margin, margin + size), ) * 2
    cell = _merge(rng, _power_cells(rng, canvas, spacing),
                  rng.uniform(0.03, 0.15), 3 * spacing**2)
    num = int(cell.max()) + 1
    area = np.bincount(cell.ravel(), minlength=num).astype(np.float64)
    inside = np.bincount(cell[inner].ravel(), minlength=num).astype(
        np.float64)
    fields = smooth_field(rng, 2, canvas, canvas, scales=(48., 16.),
                          weights=(1., 0.4))
    # Background: the cells where a smooth field is highest.
    score = _cell_mean(cell, fields[0], area)
    order = np.argsort(-score, kind='stable')
    target = (1 - rng.uniform(*cfg.parcel_cover)) * size * size
    covered = np.cumsum(inside[order])
    is_bg = np.zeros(num, bool)
    is_bg[order[:int(np.searchsorted(covered, target))]] = True
    # Background land cover: quantiles of the second smooth field.
    names = [k for k in BACKGROUND_KINDS if k in region['background']]
    bg_w = np.array([region['background'][k] for k in names], np.float64)
    rank = np.argsort(np.argsort(_cell_mean(cell, fields[1], area)))
    quant = (rank + 0.5) / num
    bg_kind = np.asarray(names)[np.searchsorted(
        np.cumsum(bg_w) / bg_w.sum(), quant).clip(0, len(names) - 1)]
    # Crops: a patch-specific mix of the regional prior, size-aware.
    prior = class_weights(region)
    mix = 0.8 * rng.dirichlet(25 * prior + 1e-3) + 0.2 * prior
    if cfg.crop_classes is not None:  # restricted class set (demos)
        mix = mix * np.isin(np.arange(1, 19), cfg.crop_classes)
    beta = np.array([SIZE_PREFERENCE.get(c, 0.) for c in range(1, 19)])
    # Neighbouring fields often grow the same crop (farms, rotations):
    # fields joined by random adjacencies share one draw.
    pairs = _adjacent_pairs(cell)
    pairs = pairs[(rng.random(len(pairs)) < rng.uniform(0.15, 0.45)) &
                  ~is_bg[pairs[:, 0]] & ~is_bg[pairs[:, 1]]]
    group = _union(pairs, area, 8 * spacing**2)
    group_area = np.bincount(group, area)
    rel = np.maximum(group_area / spacing**2, 0.05)[:, None]
    crop = 1 + _choose(rng, mix[None] * rel**beta[None])[group]
    kind = np.where(is_bg, bg_kind, crop)
    label = np.where(is_bg, 0, crop)
    void = ~is_bg & ((inside < cfg.void_outside * area) |
                     (rng.random(num) < cfg.void_rate))
    label[void] = VOID
    subcode = np.array([SUBCODES[c][rng.integers(len(SUBCODES[c]))]
                        for c in crop])
    subcode[is_bg] = 0
    # Hedges / tracks on the boundary pixels of some fields.
    bordered = ~is_bg & (rng.random(num) < rng.uniform(*cfg.hedge_rate))
    edge = np.zeros(cell.shape, bool)
    edge[:, :-1] |= cell[:, :-1] != cell[:, 1:]
    edge[:-1] |= cell[:-1] != cell[1:]
    edge &= bordered[cell]
    hedge_kind = np.where(rng.random(num) < 0.6, HEDGE, TRACK)
    pid = np.where(edge, cell + num, cell)
    kind = np.concatenate([kind, hedge_kind])
    label = np.concatenate([label, np.zeros(num, label.dtype)])
    subcode = np.concatenate([subcode, np.zeros(num, subcode.dtype)])
    # Keep the objects visible in the patch, compactly numbered.
    used, pid = np.unique(pid[inner], return_inverse=True)
    pid = pid.reshape(size, size)
    kind, label, subcode = kind[used], label[used], subcode[used]
    declared = label > 0
    instance = np.zeros(used.size, np.int64)
    instance[declared] = np.arange(declared.sum()) % 255 + 1
    cover = float(declared[pid].mean())
    return Layout(pid, kind, label.astype(np.uint8),
                  instance.astype(np.uint8), subcode.astype(np.uint8),
                  int(declared.sum()), cover)
