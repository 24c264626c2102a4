# Copyright (c) mmexact contributors. All rights reserved.
import json
from typing import Optional, Sequence

import numpy as np
from mmcv.transforms import BaseTransform

from mmseg.registry import TRANSFORMS

__all__ = ['NormalizeSITS']


@TRANSFORMS.register_module()
class NormalizeSITS(BaseTransform):
    """Per-band standardisation ``(x - mean_b) / std_b`` of every frame.

    Statistics come from ``mean``/``std`` or from a JSON file: PASTIS's
    ``NORM_S2_patch.json`` (``{"Fold_k": {"mean": [...], "std": [...]}}``)
    averaged over ``folds`` (the official PASTIS loader's rule), or one
    ``{"mean": [...], "std": [...]}`` (the ``norm.json`` of a prepared
    region; ``folds`` unused).
    They belong to the data and must be given: there is no default (the
    PASTIS configs give PASTIS's "Fold_1" statistics, which TSViT and Exact
    use for every split: ``PASTIS_FOLD1_MEAN`` / ``PASTIS_FOLD1_STD`` of
    :mod:`mmexact.datasets.pastis_meta`).

    Required Keys:

    - img (np.ndarray, (T, C, H, W))

    Modified Keys:

    - img (np.float32)

    Args:
        mean (Sequence[float], optional): Per-band means (with ``std``).
        std (Sequence[float], optional): Per-band standard deviations.
        norm_file (str, optional): Path of a statistics JSON, instead of
            ``mean`` and ``std``.
        folds (Sequence[int]): Folds to average when reading ``norm_file``.
            Defaults to (1, ).
    """

    def __init__(self,
                 mean: Optional[Sequence[float]] = None,
                 std: Optional[Sequence[float]] = None,
                 norm_file: Optional[str] = None,
                 folds: Sequence[int] = (1, )) -> None:
        if (mean is None) != (std is None):
            raise ValueError('give both mean and std, or neither')
        if mean is None and norm_file is None:
            raise ValueError(
                'NormalizeSITS needs the statistics of the data: give mean '
                'and std (one value per band, in channel order) or '
                'norm_file (a NORM_S2_patch.json); PASTIS\'s Fold_1 values '
                'are PASTIS_FOLD1_MEAN / PASTIS_FOLD1_STD of '
                'mmexact.datasets.pastis_meta')
        if mean is not None and norm_file is not None:
            raise ValueError('NormalizeSITS: give mean and std, or '
                             f'norm_file, not both (norm_file={norm_file!r})')
        self.norm_file = norm_file
        self.folds = tuple(folds)
        self._mean = self._std = None
        if mean is not None:
            self._set_stats(mean, std)

    def _set_stats(self, mean, std) -> None:
        mean = np.asarray(mean, dtype=np.float32)
        std = np.asarray(std, dtype=np.float32)
        if mean.shape != std.shape or mean.ndim != 1:
            raise ValueError('mean and std must be 1-D and of equal length')
        if (std <= 0).any():
            raise ValueError('std must be positive')
        self._mean, self._std = mean, std

    @property
    def mean(self) -> np.ndarray:
        """Per-band means; a ``norm_file`` is read on first use, so that
        configs build before the dataset exists."""
        if self._mean is None:
            self._set_stats(*self._read_norm_file(self.norm_file,
                                                  self.folds))
        return self._mean

    @property
    def std(self) -> np.ndarray:
        """Per-band standard deviations (see :attr:`mean`)."""
        self.mean  # noqa: B018  (loads the file if needed)
        return self._std

    @staticmethod
    def _read_norm_file(path: str, folds: Sequence[int]):
        try:
            with open(path) as f:
                stats = json.load(f)
        except (OSError, json.JSONDecodeError) as exc:
            raise ValueError(f'{path}: cannot read normalisation file '
                             f'({exc})') from exc
        if 'mean' in stats and 'std' in stats:  # one set (own region)
            return (np.asarray(stats['mean'], np.float64),
                    np.asarray(stats['std'], np.float64))
        means, stds = [], []
        for fold in folds:
            key = f'Fold_{fold}'
            if key not in stats or 'mean' not in stats[key] \
                    or 'std' not in stats[key]:
                raise ValueError(f'{path}: no "mean"/"std" for {key} '
                                 f'(available: {sorted(stats)})')
            means.append(stats[key]['mean'])
            stds.append(stats[key]['std'])
        return np.mean(means, axis=0), np.mean(stds, axis=0)

    def transform(self, results: dict) -> dict:
        img = results['img']
        if img.shape[1] != self.mean.size:
            raise ValueError(
                f'{results.get("img_path", "sample")}: image has '
                f'{img.shape[1]} bands, normalisation has {self.mean.size}')
        img = (img.astype(np.float32) - self.mean[:, None, None]) \
            / self.std[:, None, None]
        results['img'] = img
        return results

    def __repr__(self) -> str:
        if self._mean is None:
            return (f'{self.__class__.__name__}(norm_file={self.norm_file!r}'
                    f', folds={self.folds})')
        return (f'{self.__class__.__name__}(mean={self._mean.tolist()}, '
                f'std={self._std.tolist()})')
