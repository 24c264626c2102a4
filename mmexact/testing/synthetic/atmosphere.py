# Copyright (c) mmexact contributors. All rights reserved.
"""Clouds, cloud shadows, haze and no-data on a rendered time series.

Cloudy dates are shared by the patches of a tile (the tile calendar
holds the cloudiness of each date); each patch varies the cover around
it. Cloud masks are thresholded smooth fields with soft edges; the cloud
spectrum is bright and flat in the visible, with a thickness drawn per
frame (calibrated on the cloudy pixels of real PASTIS24 windows: B2
median about 4400, 90th percentile about 7600). PASTIS has no cloud
mask, so neither does this. Shadows are the cloud mask displaced along
the sun direction and darken the surface; some clear frames get only
shadows (clouds just outside the patch) or a thin haze. No-data is
-10000 in every band, for a whole frame or beyond a swath edge.
"""
import numpy as np

from .calendar import TileCalendar
from .config import SyntheticPASTISConfig
from .noise import smooth_field
from .spectra import CLOUD

__all__ = ['NODATA', 'add_clouds', 'add_nodata']

NODATA = -10000
_SHADOW = np.array([0.45, 0.5, 0.55, 0.6, 0.65, 0.65, 0.65, 0.65, 0.7, 0.7],
                   np.float32)


def _shift(mask: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """Translate a (H, W) map by (dy, dx), filling with zeros."""
    out = np.zeros_like(mask)
    h, w = mask.shape
    ys, yd = (slice(0, h - dy), slice(dy, h)) if dy >= 0 else (
        slice(-dy, h), slice(0, h + dy))
    xs, xd = (slice(0, w - dx), slice(dx, w)) if dx >= 0 else (
        slice(-dx, w), slice(0, w + dx))
    out[yd, xd] = mask[ys, xs]
    return out


def add_clouds(rng: np.random.Generator, img: np.ndarray,
               tile: TileCalendar, keep: np.ndarray,
               sun: np.ndarray) -> np.ndarray:
    """Add clouds, shadows and haze to ``img`` in place.

    Args:
        rng (np.random.Generator): Random stream of the patch.
        img (np.ndarray): float32 (T, 10, H, W) surface reflectance.
        tile (TileCalendar): Tile calendar (cloudiness of each date).
        keep (np.ndarray): Indices of the patch's dates in the tile.
        sun (np.ndarray): (2,) unit vector of the shadow direction.

    Returns:
        np.ndarray: Per-frame cloud cover (T,) actually drawn.
    """
    num, _, h, w = img.shape
    tile_cover = tile.cloudiness[keep]
    cover = np.where(tile_cover >= 1,
                     np.where(rng.random(num) < 0.85, 1.,
                              rng.uniform(0.5, 1., num)),
                     np.clip(tile_cover + rng.normal(0, 0.2, num), 0, 1))
    cover[tile_cover == 0] = 0
    local = (tile_cover == 0) & (rng.random(num) < 0.06)
    cover[local] = rng.uniform(0.02, 0.2, local.sum())
    draw = rng.random(num)
    haze = (cover == 0) & (draw < 0.06)
    # Shadows of clouds just outside the patch.
    shade = (cover == 0) & (draw >= 0.06) & (draw < 0.14)
    frames = np.flatnonzero((cover > 0) | haze | shade)
    if frames.size == 0:
        return cover
    fields = smooth_field(rng, frames.size, h, w, scales=(40., 10.),
                          weights=(1., 0.35))
    thick = rng.uniform(0.4, 1.8, frames.size)
    drift = rng.uniform(4, 14, frames.size)
    for k, f in enumerate(frames):
        field = fields[k]
        if shade[f]:
            thr = np.quantile(field, 1 - rng.uniform(0.2, 1.))
            shadow = np.clip((field - thr) / 0.6, 0., 1.)
            img[f] *= 1 - _SHADOW[:, None, None] * shadow
            continue
        if haze[f]:
            alpha = rng.uniform(0.04, 0.18) * (1 + 0.3 * field)
            thick_k = 0.6
        elif cover[f] >= 1:
            alpha = np.clip(0.8 + 0.2 * field, 0.3, 1.)
            thick_k = thick[k]
        else:
            thr = np.quantile(field, 1 - cover[f])
            alpha = np.clip((field - thr) / 0.6, 0., 1.)
            thick_k = thick[k]
        alpha = alpha.astype(np.float32)
        bright = CLOUD[:, None, None] * (thick_k * (1 + 0.15 * field))
        frame = img[f] * (1 - alpha) + alpha * bright
        if not haze[f] and cover[f] < 1:
            dy, dx = np.round(sun * drift[k]).astype(int)
            shadow = _shift(alpha, int(dy), int(dx)) * (1 - alpha)
            frame *= 1 - _SHADOW[:, None, None] * shadow
        img[f] = frame
    return cover


def add_nodata(rng: np.random.Generator, shape: tuple,
               cfg: SyntheticPASTISConfig) -> np.ndarray:
    """Draw no-data: whole frames, or the part beyond a swath edge.

    Args:
        rng (np.random.Generator): Random stream of the patch.
        shape (tuple): (T, C, H, W) of the series.
        cfg (SyntheticPASTISConfig): ``nodata_rate``,
            ``partial_nodata_rate``.

    Returns:
        np.ndarray: bool (T, 1, H, W), True where every band is -10000.
    """
    num, _, h, w = shape
    draw = rng.random(num)
    full = draw < cfg.nodata_rate
    part = ~full & (draw < cfg.nodata_rate + cfg.partial_nodata_rate)
    mask = np.zeros((num, 1, h, w), bool)
    mask[full] = True
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    for f in np.flatnonzero(part):
        angle = rng.uniform(-0.3, 0.3) + (np.pi / 2) * rng.integers(4)
        proj = np.cos(angle) * (xx - 0.5) + np.sin(angle) * (yy - 0.5)
        mask[f, 0] = proj > rng.uniform(-0.3, 0.4)
    return mask
