# Copyright (c) mmexact contributors. All rights reserved.
"""Cover-fraction time curves of annual crops and perennial covers.

Time is measured in *season days*: days since 1 September of the first
year Y, so a series runs from about 0 (September Y) to 425 (October
Y+1) and day-of-year ``d`` of year Y+1 is season day ``d + 121``.
Annual crops follow a double-logistic green curve (autumn emergence for
winter crops, spring green-up, senescence into straw or dark residue,
harvest into bare soil or stubble) with an optional flowering bump, a
cover crop or stubble of the previous season before sowing and a catch
crop, regrowth or next winter crop after harvest. Perennials (grass,
trees, vines, forests) are periodic in day of year, with mowing cuts
and a summer drought dip. Every parcel draws its own timing shift,
vigour and pre/post-season state.
"""
from dataclasses import dataclass
from typing import Dict, Tuple

import numpy as np

from .noise import sigmoid
from .spectra import (BROWN, CANOPY, DRY, FLOWER, GREEN, NUM_ENDMEMBERS,
                      SOIL)

__all__ = [
    'AnnualCrop', 'Perennial', 'Vegetables', 'next_year', 'annual_fractions',
    'perennial_fractions', 'vegetable_fractions'
]


def next_year(doy: float) -> float:
    """Season day of day-of-year ``doy`` of year Y+1."""
    return doy + 121.


@dataclass(frozen=True)
class AnnualCrop:
    """An annual crop cycle (times are season days, see module doc).

    Args:
        green_up (float): Mid-point of the main green-up.
        peak (float): Green cover at the peak.
        senescence (float): Mid-point of senescence.
        harvest (float): Harvest day.
        green_width (float): Logistic width of the green-up (days).
        sen_width (float): Logistic width of senescence (days).
        dry (float): Residue cover after senescence, before harvest.
        dry_kind (int): Residue endmember (``DRY`` straw or ``BROWN``).
        emergence (float, optional): Autumn emergence (winter crops).
        winter_level (float): Green cover of the winter plateau.
        flower (float): Peak flower cover (0: none).
        flower_day (float): Mid-point of flowering.
        flower_width (float): Std of the flowering bump (days).
        timing_sd (float): Std of the per-parcel sowing shift (days).
        stubble (float): Straw cover left after harvest.
        pre_cover (float): Probability of a cover crop before sowing.
        gain (tuple): NIR, SWIR, visible gains of the leaves.
        dark (float): Share of the green cover that looks like dark
            canopy (bluish, low-NIR varieties).
        heterogeneity (float): Within-parcel vigour variation.
    """

    green_up: float
    peak: float
    senescence: float
    harvest: float
    green_width: float = 10.
    sen_width: float = 7.
    dry: float = 0.7
    dry_kind: int = DRY
    emergence: float = None
    winter_level: float = 0.
    flower: float = 0.
    flower_day: float = 0.
    flower_width: float = 10.
    timing_sd: float = 6.
    stubble: float = 0.15
    pre_cover: float = 0.4
    gain: Tuple[float, float, float] = (1., 1., 1.)
    dark: float = 0.
    heterogeneity: float = 0.08


@dataclass(frozen=True)
class Perennial:
    """A perennial cover, periodic in day of year.

    Args:
        green_winter (float): Green cover in winter.
        green_summer (float): Green cover in the growing season.
        leaf_on (float): Day of year of the spring green-up mid-point.
        leaf_off (float): Day of year of the autumn decline mid-point.
        under (dict): Fractions of the non-green part by endmember (the
            rest is soil), e.g. ``{BROWN: 0.4}`` for bare branches.
        width (float): Logistic width of leaf on/off (days).
        drought (float): Summer loss of green cover (turned to dry).
        cuts (tuple[int, int]): Range of the number of mowing events.
        cut_depth (float): Fraction of the green cover removed by a cut.
        timing_sd (float): Std of the per-parcel timing shift (days).
        gain (tuple): NIR, SWIR, visible gains of the leaves.
        heterogeneity (float): Within-parcel vigour variation.
        jitter (float): Relative per-parcel amplitude jitter.
    """

    green_winter: float
    green_summer: float
    leaf_on: float
    leaf_off: float
    under: Dict[int, float] = None
    width: float = 12.
    drought: float = 0.
    cuts: Tuple[int, int] = (0, 0)
    cut_depth: float = 0.6
    timing_sd: float = 8.
    gain: Tuple[float, float, float] = (1., 1., 1.)
    heterogeneity: float = 0.08
    jitter: float = 0.08


@dataclass(frozen=True)
class Vegetables:
    """Market gardening: one to three short, randomly timed cycles.

    Args:
        cycles (tuple[float, ...]): Probability of each cycle.
        duration (tuple[float, float]): Range of a cycle's length (days).
        gain (tuple): NIR, SWIR, visible gains of the leaves.
        heterogeneity (float): Within-parcel vigour variation.
    """

    cycles: Tuple[float, ...] = (1., 0.6, 0.3)
    duration: Tuple[float, float] = (45., 90.)
    gain: Tuple[float, float, float] = (1.05, 1., 1.)
    heterogeneity: float = 0.15


def _fill_soil(frac: np.ndarray) -> np.ndarray:
    """Clip fractions to [0, 1], rescale if they exceed 1, soil = rest."""
    np.clip(frac, 0, 1, out=frac)
    total = frac.sum(-1, keepdims=True) - frac[..., SOIL:SOIL + 1]
    scale = np.maximum(total, 1.)
    frac /= scale
    frac[..., SOIL] = np.maximum(0., 1. - total[..., 0] / scale[..., 0])
    return frac


def annual_fractions(spec: AnnualCrop, rng: np.random.Generator, n: int,
                     t: np.ndarray, shift: float) -> np.ndarray:
    """Cover fractions of ``n`` parcels of an annual crop.

    Args:
        spec (AnnualCrop): Crop description.
        rng (np.random.Generator): Random stream.
        n (int): Number of parcels.
        t (np.ndarray): (T,) season day of each date.
        shift (float): Regional shift of spring/summer events (days).

    Returns:
        np.ndarray: (n, T, NUM_ENDMEMBERS) fractions summing to 1.
    """
    sd = spec.timing_sd
    sow = rng.normal(0, sd, n)
    dev = 0.5 * sow + rng.normal(0, 0.7 * sd, n)
    winter = spec.emergence is not None
    gu = spec.green_up + shift + (0.3 if winter else 1.) * sow
    sen = spec.senescence + shift + dev
    harv = np.maximum(spec.harvest + shift + dev + rng.normal(0, 4, n),
                      sen + 5)
    peak = np.clip(spec.peak * rng.normal(1, 0.06, n), 0.3, 0.97)
    tt = t[None, :]
    col = (lambda a: np.asarray(a, np.float64)[:, None])
    green = (peak[:, None] - spec.winter_level) * sigmoid(
        (tt - col(gu)) / spec.green_width)
    if winter:
        emerge = spec.emergence + sow
        level = spec.winter_level * np.clip(rng.normal(1, 0.15, n), 0.5, 1.5)
        green = green + level[:, None] * sigmoid((tt - col(emerge)) / 7.)
        start = emerge - 12 + rng.normal(0, 4, n)
    else:
        start = gu - rng.uniform(20, 90, n)
    alive = 1 - sigmoid((tt - col(sen)) / spec.sen_width)
    harvested = sigmoid((tt - col(harv)) / 2.)
    green = green * alive
    frac = np.zeros((n, t.size, NUM_ENDMEMBERS))
    frac[:, :, spec.dry_kind] = spec.dry * (1 - alive) * (1 - harvested)
    # Previous season: a cover crop or stubble until ploughing (``start``).
    before = 1 - sigmoid((tt - col(start)) / 4.)
    cover = rng.random(n) < spec.pre_cover
    amount = np.where(cover, rng.uniform(0.3, 0.65, n), 0)
    green += amount[:, None] * before
    frac[:, :, DRY] += np.where(cover, 0, rng.uniform(0.05, 0.35, n))[
        :, None] * before
    # After harvest: stubble until ploughing, then a catch crop,
    # volunteers or the next winter crop.
    plough = harv + rng.uniform(10, 60, n)
    kept = harvested * (1 - sigmoid((tt - col(plough)) / 3.))
    frac[:, :, DRY] += spec.stubble * kept
    regrow = rng.choice(3, n, p=(0.5, 0.3, 0.2))
    catch_day = np.where(regrow == 1, plough + rng.uniform(20, 40, n),
                         next_year(280) + rng.uniform(0, 25, n))
    regrow_level = np.where(regrow == 0, 0, rng.uniform(0.25, 0.6, n))
    green += harvested * regrow_level[:, None] * sigmoid(
        (tt - col(catch_day)) / 7.)
    if spec.flower > 0:
        day = spec.flower_day + shift + 0.8 * dev
        flower = spec.flower * np.clip(rng.normal(1, 0.15, n), 0.4, 1.6)
        bloom = flower[:, None] * np.exp(
            -0.5 * ((tt - col(day)) / spec.flower_width)**2)
        frac[:, :, FLOWER] = bloom
        green = green - 0.6 * bloom
    if spec.dark > 0:
        frac[:, :, CANOPY] = spec.dark * green
        green = green * (1 - spec.dark)
    frac[:, :, GREEN] = green
    return _fill_soil(frac)


def perennial_fractions(spec: Perennial, rng: np.random.Generator, n: int,
                        t: np.ndarray, doy: np.ndarray,
                        shift: float) -> np.ndarray:
    """Cover fractions of ``n`` parcels of a perennial cover.

    Args:
        spec (Perennial): Cover description.
        rng (np.random.Generator): Random stream.
        n (int): Number of parcels.
        t (np.ndarray): (T,) season day of each date.
        doy (np.ndarray): (T,) day of year of each date.
        shift (float): Regional shift of spring/summer events (days).

    Returns:
        np.ndarray: (n, T, NUM_ENDMEMBERS) fractions summing to 1.
    """
    sd = spec.timing_sd
    on = spec.leaf_on + shift + rng.normal(0, sd, n)
    off = spec.leaf_off + rng.normal(0, sd, n)
    amp = np.clip(rng.normal(1, spec.jitter, n), 0.6, 1.4)
    gw = np.clip(spec.green_winter * amp, 0, 0.97)[:, None]
    gs = np.clip(spec.green_summer * amp, 0, 0.97)[:, None]
    d = doy[None, :]
    season = (sigmoid((d - on[:, None]) / spec.width) -
              sigmoid((d - off[:, None]) / spec.width))
    green = gw + (gs - gw) * season
    dry = np.zeros_like(green)
    if spec.drought > 0:
        peak = 215 + shift + rng.normal(0, 10, n)
        depth = spec.drought * rng.uniform(0.3, 1.3, n)
        dip = depth[:, None] * np.exp(-0.5 * ((d - peak[:, None]) / 22.)**2)
        dip = np.minimum(dip, green)
        green, dry = green - dip, dry + dip
    lo, hi = spec.cuts
    if hi > 0:
        count = rng.integers(lo, hi + 1, n)
        first = next_year(125) + shift + rng.normal(0, 10, n)
        gaps = rng.uniform(30, 55, (n, hi))
        days = first[:, None] + np.cumsum(gaps, 1) - gaps[:, :1]
        for k in range(hi):
            active = (k < count)[:, None]
            since = t[None, :] - days[:, k:k + 1]
            hit = sigmoid(since / 1.5) * np.exp(-np.maximum(since, 0) / 18.)
            cut = np.where(active, spec.cut_depth * hit, 0) * green
            hay = cut * np.exp(-np.maximum(since, 0) / 4.)
            green, dry = green - cut, dry + hay
    frac = np.zeros((n, t.size, NUM_ENDMEMBERS))
    frac[:, :, GREEN] = green
    frac[:, :, DRY] += dry
    rest = 1 - green - dry
    for idx, value in (spec.under or {}).items():
        frac[:, :, idx] += value * rest
    return _fill_soil(frac)


def vegetable_fractions(spec: Vegetables, rng: np.random.Generator, n: int,
                        t: np.ndarray, shift: float) -> np.ndarray:
    """Cover fractions of ``n`` market-gardening parcels.

    Args:
        spec (Vegetables): Description.
        rng (np.random.Generator): Random stream.
        n (int): Number of parcels.
        t (np.ndarray): (T,) season day of each date.
        shift (float): Regional shift (days).

    Returns:
        np.ndarray: (n, T, NUM_ENDMEMBERS) fractions summing to 1.
    """
    green = np.zeros((n, t.size))
    for prob in spec.cycles:
        on = rng.random(n) < prob
        start = rng.uniform(next_year(70), next_year(270), n) + shift
        length = rng.uniform(*spec.duration, n)
        level = np.where(on, rng.uniform(0.45, 0.9, n), 0)[:, None]
        cycle = level * (sigmoid((t[None] - start[:, None]) / 5.) -
                         sigmoid((t[None] - (start + length)[:, None]) / 3.))
        green = np.maximum(green, cycle)
    autumn = rng.uniform(0, 0.5, n)[:, None] * (
        1 - sigmoid((t[None] - rng.uniform(30, 90, n)[:, None]) / 4.))
    frac = np.zeros((n, t.size, NUM_ENDMEMBERS))
    frac[:, :, GREEN] = np.maximum(green, autumn)
    frac[:, :, BROWN] = 0.1 * (1 - frac[:, :, GREEN])
    return _fill_soil(frac)
