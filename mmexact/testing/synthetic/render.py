# Copyright (c) mmexact contributors. All rights reserved.
"""Render one synthetic patch: layout, spectra, noise, atmosphere."""
import datetime
from typing import Dict

import numpy as np

from .atmosphere import NODATA, add_clouds, add_nodata
from .calendar import TileCalendar, patch_calendar
from .config import SyntheticPASTISConfig
from .covers import cover_fractions, cover_gain, cover_heterogeneity
from .noise import smooth_field
from .parcels import make_layout
from .spectra import ENDMEMBERS, GREEN, SOIL, green_gain, mix_spectra

__all__ = ['render_patch']

# Fraction of the atmospheric offset applied to B2..B12.
_OFFSET = np.array([1., 0.7, 0.45, 0.25, 0.1, 0, 0, 0, 0, 0], np.float32)


def _object_spectra(rng: np.random.Generator, kind: np.ndarray,
                    t: np.ndarray, doy: np.ndarray, shift: float,
                    wetness: np.ndarray):
    """Spectra (P, T, 10), vigour direction (P, T, 10), heterogeneity."""
    num = kind.size
    frac = np.zeros((num, t.size, ENDMEMBERS.shape[0]))
    gain = np.ones((num, 10), np.float32)
    het = np.zeros(num, np.float32)
    for k in np.unique(kind):
        idx = np.flatnonzero(kind == k)
        frac[idx] = cover_fractions(int(k), rng, idx.size, t, doy, shift)
        gain[idx] = green_gain(*cover_gain(int(k)))
        het[idx] = cover_heterogeneity(int(k))
    # Per-parcel canopy structure (NIR) and overall brightness.
    gain *= green_gain(rng.normal(1, 0.08, num)[:, None],
                       1., 1.) * rng.normal(1, 0.03, (num, 1))
    soil = (rng.uniform(0.8, 1.2) * rng.normal(1, 0.08, num)).astype(
        np.float32)
    spectra = mix_spectra(frac, gain, soil, wetness)
    vigour = frac[:, :, GREEN, None].astype(np.float32) * (
        ENDMEMBERS[GREEN] * gain[:, None] -
        ENDMEMBERS[SOIL] * soil[:, None, None])
    return spectra, vigour, het


def _blur(img: np.ndarray, weight: float) -> np.ndarray:
    """Mix each pixel with its 4 neighbours (sensor PSF, mixed pixels).

    Edges repeat the border pixel. Works on (..., H, W) arrays.
    """
    part = img * weight
    out = img - 4 * part
    for axis in (-2, -1):
        index = [slice(None)] * img.ndim

        def at(sl: slice) -> tuple:
            index[axis] = sl
            return tuple(index)

        out[at(slice(1, None))] += part[at(slice(None, -1))]
        out[at(slice(None, -1))] += part[at(slice(1, None))]
        out[at(slice(None, 1))] += part[at(slice(None, 1))]
        out[at(slice(-1, None))] += part[at(slice(-1, None))]
    return out


def _noise(rng: np.random.Generator, shape: tuple) -> np.ndarray:
    """Fast zero-mean, unit-variance noise (sum of two uniform bytes)."""
    raw = rng.integers(0, 256, (2, ) + shape, dtype=np.uint8)
    out = raw[0].astype(np.float32)
    out += raw[1]
    out -= 255.
    out *= 1. / 104.5
    return out


def render_patch(rng: np.random.Generator, cfg: SyntheticPASTISConfig,
                 tile: TileCalendar, region: dict,
                 sun: np.ndarray) -> Dict[str, object]:
    """Generate the arrays and metadata of one patch.

    Args:
        rng (np.random.Generator): Random stream of the patch.
        cfg (SyntheticPASTISConfig): Options.
        tile (TileCalendar): Calendar of the patch's tile.
        region (dict): Regional crop mix and timing shift.
        sun (np.ndarray): (2,) shadow direction of the tile.

    Returns:
        dict: ``img`` int16 (T, 10, H, W), ``target`` uint8 (3, H, W),
        ``dates`` list of YYYYMMDD ints, ``num_parcels``,
        ``parcel_cover``, ``cloud_cover`` (T,), ``nodata`` (T,) bool.
    """
    keep = patch_calendar(rng, tile, cfg)
    dates = [tile.dates[i] for i in keep]
    start = datetime.date(cfg.year, 9, 1)
    t = np.array([(d - start).days for d in dates], np.float64)
    doy = np.array([d.timetuple().tm_yday for d in dates], np.float64)
    layout = make_layout(rng, cfg, region)
    spectra, vigour, het = _object_spectra(rng, layout.kind, t, doy,
                                           region['shift'],
                                           tile.wetness[keep])
    size = cfg.size
    texture = smooth_field(rng, 1, size, size, scales=(10., 3.),
                           weights=(1., 0.6))[0]
    texture = 0.8 * texture + 0.6 * rng.standard_normal(
        (size, size), dtype=np.float32)
    amount = het[layout.pid] * texture
    pid = layout.pid
    img = spectra.transpose(1, 2, 0)[:, :, pid]
    img += amount * vigour.transpose(1, 2, 0)[:, :, pid]
    img = _blur(img, 0.07)
    num = t.size
    img *= rng.normal(1, 0.03, (num, 10, 1, 1)).astype(np.float32)
    img += (tile.offset[keep][:, None] * _OFFSET)[:, :, None, None]
    # Noise: relative (shared by the bands of a pixel, and per band)
    # plus a small absolute part. img * n has the law of |img| * n.
    band = _noise(rng, img.shape)
    noise = _noise(rng, (num, 1, size, size))
    noise *= 0.7 * cfg.noise
    noise = noise + (0.5 * cfg.noise) * band
    noise *= img
    band *= 12.
    noise += band
    img += noise
    del noise, band
    if cfg.atmosphere:
        cloud = add_clouds(rng, img, tile, keep, sun)
        nodata = add_nodata(rng, img.shape, cfg)
    else:  # clear sky, every frame valid
        cloud = np.zeros(num)
        nodata = np.zeros((num, 1, size, size), bool)
    np.rint(img, out=img)
    np.clip(img, NODATA + 1, 32767, out=img)
    img = img.astype(np.int16)
    np.copyto(img, np.int16(NODATA), where=nodata)
    target = np.stack([
        layout.label[pid], layout.instance[pid], layout.subcode[pid]
    ]).astype(np.uint8)
    return dict(
        img=img,
        target=target,
        dates=[int(d.strftime('%Y%m%d')) for d in dates],
        num_parcels=layout.num_parcels,
        parcel_cover=layout.parcel_cover,
        cloud_cover=cloud,
        nodata=nodata.any(axis=(1, 2, 3)))
