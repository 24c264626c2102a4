# Copyright (c) mmexact contributors. All rights reserved.
"""Options of the synthetic PASTIS generator."""
from dataclasses import asdict, dataclass, fields
from typing import Optional, Tuple

__all__ = ['SyntheticPASTISConfig']


@dataclass
class SyntheticPASTISConfig:
    """Every knob of :func:`make_synthetic_pastis`.

    Defaults give PASTIS-like data: 128 x 128 patches, 33-61 dates from
    September of ``year`` to October of ``year + 1``, about a third of the
    pixels non-agricultural background, a few percent void, roughly one
    frame in four cloudy, rare no-data frames.

    Args:
        num_patches (int): Number of patches. Defaults to 20.
        size (int): Patch side in pixels (PASTIS: 128). Must be >= 24.
        seed (int): Master seed; every patch draws from its own stream,
            so the output does not depend on ``num_workers``.
        num_tiles (int): S2 tiles; patches of a tile share a date
            calendar, a regional crop mix and a phenology shift (the
            first four regions mimic PASTIS's T30UXV, T31TFJ, T31TFM,
            T32ULU). Defaults to 4.
        seq_len (tuple[int, int]): Inclusive range of T per patch.
        year (int): First year of the season (dates run from September
            of ``year`` to October of ``year + 1``). Defaults to 2018.
        max_dropped_dates (int): Each patch drops up to this many dates
            of its tile calendar (patch-level acquisition gaps), so T
            varies inside a tile too. Defaults to 3.
        parcel_spacing (tuple[float, float]): Range of the mean distance
            between parcel seeds (pixels; 10 m each). Defaults to (9, 20).
        parcel_cover (tuple[float, float]): Range of the fraction of a
            patch covered by declared parcels (the rest is background).
        void_outside (float): A parcel whose area inside the patch is
            below this fraction of its full area is labelled void (19).
        void_rate (float): Probability that any other parcel is void.
        hedge_rate (tuple[float, float]): Range of the per-patch
            probability that a parcel is bordered by a hedge or track
            (one-pixel background band).
        cloud_rate (float): Probability that a frame has clouds.
        full_cloud_rate (float): Probability that a cloudy frame is fully
            covered.
        nodata_rate (float): Probability that a frame is all -10000.
        partial_nodata_rate (float): Probability that a frame is -10000
            beyond a swath edge.
        noise (float): Relative per-pixel, per-date noise. Defaults to
            0.04.
        crop_classes (tuple[int], optional): Restrict crops to these
            PASTIS classes (1..18), keeping their relative prior; for
            small demos that cannot learn 18 classes in minutes. Defaults
            to None (all classes).
        folds (tuple[int], optional): Fold (1..5) of each patch, in patch
            order. Defaults to None: balanced folds in a random order
            (by seed).
        atmosphere (bool): Render clouds, cloud shadows, haze and no-data
            frames. False gives clear-sky, fully valid series (the
            per-date correction offsets and gains stay; ``cloud_rate``,
            ``full_cloud_rate``, ``nodata_rate`` and
            ``partial_nodata_rate`` are unused): the cheap mode of the
            small trees the tests write
            (:func:`mmexact.testing.make_fake_pastis`). Defaults to True.
        num_workers (int): Processes used to generate patches (the
            output is identical for any value). Defaults to 1.
    """

    num_patches: int = 20
    size: int = 128
    seed: int = 0
    num_tiles: int = 4
    seq_len: Tuple[int, int] = (33, 61)
    year: int = 2018
    max_dropped_dates: int = 3
    parcel_spacing: Tuple[float, float] = (9., 20.)
    parcel_cover: Tuple[float, float] = (0.45, 0.95)
    void_outside: float = 0.4
    void_rate: float = 0.03
    hedge_rate: Tuple[float, float] = (0.1, 0.6)
    cloud_rate: float = 0.27
    full_cloud_rate: float = 0.45
    nodata_rate: float = 0.015
    partial_nodata_rate: float = 0.015
    noise: float = 0.04
    crop_classes: Optional[Tuple[int, ...]] = None
    folds: Optional[Tuple[int, ...]] = None
    atmosphere: bool = True
    num_workers: int = 1

    def __post_init__(self) -> None:
        if self.crop_classes is not None:
            self.crop_classes = tuple(int(c) for c in self.crop_classes)
            if not self.crop_classes or not set(self.crop_classes) <= set(
                    range(1, 19)):
                raise ValueError('crop_classes must be a non-empty subset '
                                 'of 1..18')
        if self.size < 24:
            raise ValueError(f'size must be >= 24, got {self.size}')
        if self.num_patches < 1 or self.num_tiles < 1:
            raise ValueError('num_patches and num_tiles must be >= 1')
        if self.num_patches > 10000 * self.num_tiles:
            raise ValueError('at most 10000 patches per tile (ID_PATCH is '
                             '<tile + 1> * 10000 + <rank in the tile>)')
        if self.folds is not None:
            self.folds = tuple(int(k) for k in self.folds)
            if len(self.folds) != self.num_patches or not set(
                    self.folds) <= set(range(1, 6)):
                raise ValueError(
                    f'folds must give a fold in 1..5 for each of the '
                    f'{self.num_patches} patches, got {self.folds}')
        lo, hi = self.seq_len
        if not 2 <= lo <= hi:
            raise ValueError(f'invalid seq_len {self.seq_len}')
        self.seq_len = (int(lo), int(hi))

    @classmethod
    def from_kwargs(cls, **kwargs) -> 'SyntheticPASTISConfig':
        """Build from keyword options, rejecting unknown names."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(kwargs) - known)
        if unknown:
            raise TypeError(f'unknown synthetic PASTIS option(s): {unknown}')
        return cls(**kwargs)

    def to_dict(self) -> dict:
        """Plain-dict copy (JSON serialisable)."""
        return asdict(self)
