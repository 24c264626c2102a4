# Copyright (c) mmexact contributors. All rights reserved.
"""Realistic synthetic PASTIS (raw layout, optionally PASTIS24).

A data generator for demos, benchmarks and tests; the runtime package
(``import mmexact``) does not import it.

:func:`make_synthetic_pastis` writes ``DATA_S2``, ``ANNOTATIONS``,
``metadata.geojson`` and ``NORM_S2_patch.json`` exactly like PASTIS, so
every PASTIS reader of mmexact works on it. It is deterministic: the
same options give byte-identical files.

What is modelled
    * Layout (:mod:`.parcels`): irregular fields from an anisotropic
      power diagram with random merges (varied sizes, elongated fields,
      small fields, non-convex shapes) drawn on a canvas larger than the
      patch, so fields cross patch and 24 x 24 window borders;
      spatially clustered non-agricultural background (class 0: forest,
      conifers, villages, water, grassland, bare land, plus one-pixel
      hedges and tracks around some fields); void (19) on fields mostly
      outside the patch and on a few others. TARGET channels 1-2 hold a
      parcel number and a fine crop code, constant per parcel, 0 on
      background.
    * Classes (:mod:`.regions`): a skewed, PASTIS-like prior (meadow,
      wheat, corn common; sorghum, potatoes, mixed cereal rare),
      modulated per tile (four regional mixes like PASTIS's tiles), per
      patch (Dirichlet draw) and by field size (vines, orchards and
      market gardens small; arable crops large).
    * Phenology (:mod:`.phenology`, :mod:`.covers`): per class, a cover
      fraction curve over the season (green leaves, straw, dark
      residue, flowers, soil) - winter crops emerge in autumn, summer
      crops are bare until spring; senescence, harvest, stubble, cover
      and catch crops, mowing, summer drought, rapeseed and sunflower
      bloom. Winter cereals (2, 4, 10, 11, 17) differ only by a few days
      and slight vigour / leaf-spectrum changes: a confusable group.
      Background covers have their own, mostly season-invariant or
      periodic, behaviour (non-declared grassland resembles meadow).
      Each parcel draws its own sowing shift, development shift, vigour,
      pre-season and post-harvest state, soil brightness and leaf gain.
    * Spectra (:mod:`.spectra`): linear mixing of nine endmembers over
      the ten S2 bands (B2, B3, B4, B5, B6, B7, B8, B8A, B11, B12),
      calibrated on clear pixels of the real PASTIS24 windows; soil
      darkening on wet dates; within-parcel vigour texture and pixel
      noise; neighbour mixing (mixed pixels on field edges).
    * Acquisitions (:mod:`.calendar`, :mod:`.atmosphere`): one 5-day-grid
      calendar per tile from September Y to October Y+1 with 33-61 dates
      (day of year repeats across the two years, as in PASTIS), minus a
      few dates per patch; cloudy dates shared by a tile (about 27 %),
      full or partial soft-edged clouds, displaced cloud shadows, thin
      haze, atmospheric-correction offsets (including negative
      reflectances), per-date gains; no-data (-10000) frames, whole or
      beyond a swath edge. ``NORM_S2_patch.json`` is computed from the
      generated values (no-data excluded), per fold.
    * Folds 1..5, balanced, assigned at random (by seed), or given per
      patch (``folds``).

Cheap mode
    ``atmosphere=False`` skips clouds, shadows, haze and no-data: clear,
    fully valid series, everything else unchanged (same seed, same
    labels and dates). With one tile, a few dates and a few crop classes
    it is the preset of the small trees the tests write
    (:func:`mmexact.testing.make_fake_pastis`, five 48 x 48 patches in
    well under a second).

What is not modelled
    Real geography and field statistics (parcel shapes are polygons of
    a random tessellation, not cadastral fields), crop rotations across
    years, inter-annual climate, topography and illumination geometry,
    BRDF, sensor band response, atmospheric physics (clouds are bright
    blobs, not radiative transfer), snow, 20 m band resolution (all
    bands are rendered at 10 m), S1 radar, instance / panoptic files
    (``INSTANCES``, ``ZONES``, ``HEATMAP``, ``ParcelIDs``) and class
    semantics beyond the phenology sketched above. Absolute accuracies
    on it say nothing about PASTIS; use it to compare methods.

Statistics: :func:`window_label_statistics` /
:func:`dataset_label_statistics` give pixel and image-level (Exact's
> 1 % rule) class frequencies over 24 x 24 windows.
"""
from .config import SyntheticPASTISConfig
from .generator import make_synthetic_pastis, patch_plan
from .stats import dataset_label_statistics, window_label_statistics

__all__ = [
    'SyntheticPASTISConfig', 'make_synthetic_pastis', 'patch_plan',
    'dataset_label_statistics', 'window_label_statistics'
]
