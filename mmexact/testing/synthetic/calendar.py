# Copyright (c) mmexact contributors. All rights reserved.
"""Acquisition calendars and per-date weather of a tile."""
import datetime
from dataclasses import dataclass
from typing import List

import numpy as np

from .config import SyntheticPASTISConfig

__all__ = ['TileCalendar', 'make_tile_calendar', 'patch_calendar']

REVISIT = 5  # Sentinel-2A + 2B revisit (days)


@dataclass
class TileCalendar:
    """Dates and shared weather of one S2 tile.

    Attributes:
        dates (list[datetime.date]): Acquisition dates (chronological).
        cloudiness (np.ndarray): (T,) cloud cover of the tile, 0..1.
        wetness (np.ndarray): (T,) soil darkening factor (1 = dry).
        offset (np.ndarray): (T,) atmospheric-correction offset of B2
            (reflectance x 10000; scaled down for B3, B4).
    """

    dates: List[datetime.date]
    cloudiness: np.ndarray
    wetness: np.ndarray
    offset: np.ndarray


def make_tile_calendar(rng: np.random.Generator,
                       cfg: SyntheticPASTISConfig) -> TileCalendar:
    """Draw a tile calendar: September Y to October Y+1, every 5 days.

    Args:
        rng (np.random.Generator): Random stream of the tile.
        cfg (SyntheticPASTISConfig): Options (``seq_len``, ``year``,
            ``max_dropped_dates``, ``cloud_rate``, ``full_cloud_rate``).

    Returns:
        TileCalendar: The calendar.
    """
    lo, hi = cfg.seq_len
    lo_tile = min(hi, lo + cfg.max_dropped_dates)
    num = int(rng.integers(lo_tile, hi + 1))
    first = datetime.date(cfg.year, 9, 1) + datetime.timedelta(
        days=int(rng.integers(0, 28)))
    end = datetime.date(cfg.year + 1, 10, 1) + datetime.timedelta(
        days=int(rng.integers(REVISIT, 31)))
    grid = np.arange(0, (end - first).days + 1, REVISIT)
    inner = np.sort(rng.choice(grid[1:-1], num - 2, replace=False))
    offsets = np.concatenate([[0], inner, grid[-1:]])
    dates = [first + datetime.timedelta(days=int(d)) for d in offsets]
    state = rng.random(num)
    cloudiness = np.where(
        state < cfg.cloud_rate * cfg.full_cloud_rate, 1.,
        np.where(state < cfg.cloud_rate, rng.uniform(0.1, 0.9, num), 0.))
    season = np.array([(d - datetime.date(cfg.year, 9, 1)).days
                       for d in dates], np.float64)
    winter = np.cos(2 * np.pi * (season - 140) / 365.)
    rain = rng.random(num) < 0.3
    wetness = 1 - 0.1 * np.clip(winter, 0, 1) - rain * rng.uniform(
        0.05, 0.2, num)
    offset = rng.normal(0, 35, num)
    over = rng.random(num) < 0.06  # over-corrected aerosols: B2 < 0
    offset[over] -= rng.uniform(150, 700, over.sum())
    return TileCalendar(dates, cloudiness, wetness.astype(np.float32),
                        offset.astype(np.float32))


def patch_calendar(rng: np.random.Generator, tile: TileCalendar,
                   cfg: SyntheticPASTISConfig) -> np.ndarray:
    """Indices of the tile dates a patch keeps (up to a few dropped).

    Args:
        rng (np.random.Generator): Random stream of the patch.
        tile (TileCalendar): Calendar of the patch's tile.
        cfg (SyntheticPASTISConfig): Options.

    Returns:
        np.ndarray: Sorted int64 indices into ``tile.dates``.
    """
    num = len(tile.dates)
    drop = int(rng.integers(0, cfg.max_dropped_dates + 1))
    drop = max(0, min(drop, num - cfg.seq_len[0]))
    if drop == 0:
        return np.arange(num)
    dropped = rng.choice(np.arange(1, num - 1), drop, replace=False)
    return np.setdiff1d(np.arange(num), dropped)
