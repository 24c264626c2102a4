# Copyright (c) mmexact contributors. All rights reserved.
import json
import os.path as osp
from typing import List, Optional, Sequence

import numpy as np

from mmseg.registry import DATASETS
from ..structures import SITSDataError
from .pastis_meta import PASTIS_METAINFO
from .sits_seg_dataset import SITSSegDataset

__all__ = ['PASTISDataset', 'window_grid']


def window_grid(height: int, width: int, size: Optional[int],
                stride: Optional[int]) -> List[tuple]:
    """Top-left corners of the windows tiling an image, row-major.

    Like PASTIS24, windows that would cross the border are dropped (24 x 24
    windows with stride 24 tile 128 x 128 as a 5 x 5 grid). ``size=None``
    returns the whole image as one window.
    """
    if size is None:
        return [(0, 0, height, width)]
    stride = stride or size
    return [(y, x, size, size) for y in range(0, height - size + 1, stride)
            for x in range(0, width - size + 1, stride)]


@DATASETS.register_module()
class PASTISDataset(SITSSegDataset):
    """Raw PASTIS, cut into windows on the fly (no preprocessing step).

    Layout under ``data_root``::

        metadata.geojson              ID_PATCH, Fold, dates-S2 per patch
        DATA_S2/S2_<id>.npy           (T, 10, 128, 128) int16
        ANNOTATIONS/TARGET_<id>.npy   (3, 128, 128), channel 0 semantic

    Each patch of the selected folds is tiled row-major into windows
    (default 24 x 24, stride 24: the 5 x 5 grid of PASTIS24, so sample
    ``<id>_<j>`` is the same window as PASTIS24's pickle ``<id>_<j>``).
    ``window_size=None`` yields whole patches (for slide inference).

    Args:
        data_root (str): Dataset root.
        folds (Sequence[int]): Official folds. Defaults to (1, 2, 3).
        window_size (int, optional): Window side. Defaults to 24.
        window_stride (int, optional): Stride; defaults to ``window_size``.
        metadata_file (str): Defaults to ``'metadata.geojson'``.
        with_labels (bool): Read ``ANNOTATIONS``. Defaults to True.
        **kwargs: Passed to :class:`SITSSegDataset`.
    """

    METAINFO = PASTIS_METAINFO

    def __init__(self,
                 data_root: str,
                 folds: Sequence[int] = (1, 2, 3),
                 window_size: Optional[int] = 24,
                 window_stride: Optional[int] = None,
                 metadata_file: str = 'metadata.geojson',
                 with_labels: bool = True,
                 **kwargs) -> None:
        self.folds = tuple(folds)
        self.window_size = window_size
        self.window_stride = window_stride
        self.metadata_file = metadata_file
        self.with_labels = with_labels
        super().__init__(data_root=data_root, **kwargs)

    @staticmethod
    def parse_dates(value, source: str) -> list:
        """``dates-S2`` as a list ordered by its "0".."T-1" keys."""
        if isinstance(value, str):
            try:
                value = json.loads(value.replace("'", '"'))
            except json.JSONDecodeError as exc:
                raise SITSDataError(f'{source}: unreadable dates-S2') from exc
        if isinstance(value, dict):
            return [value[k] for k in sorted(value, key=int)]
        if isinstance(value, list):
            return value
        raise SITSDataError(f'{source}: dates-S2 must be a dict or list')

    def load_sits_list(self) -> List[dict]:
        meta_path = osp.join(self.data_root, self.metadata_file)
        try:
            with open(meta_path) as f:
                features = json.load(f)['features']
        except (OSError, ValueError, KeyError) as exc:
            raise SITSDataError(f'{meta_path}: cannot read PASTIS metadata '
                                f'({exc})') from exc
        data_list = []
        for feat in features:
            prop = feat.get('properties', {})
            if prop.get('Fold') not in self.folds:
                continue
            pid = prop.get('ID_PATCH')
            source = f'{meta_path} (ID_PATCH {pid})'
            if pid is None or 'dates-S2' not in prop:
                raise SITSDataError(f'{source}: feature lacks ID_PATCH or '
                                    'dates-S2')
            dates = self.parse_dates(prop['dates-S2'], source)
            s2 = osp.join(self.data_root, 'DATA_S2', f'S2_{pid}.npy')
            target = osp.join(self.data_root, 'ANNOTATIONS',
                              f'TARGET_{pid}.npy')
            if not osp.isfile(s2):
                raise SITSDataError(f'{s2}: listed in {meta_path} but '
                                    'missing')
            if self.with_labels and not osp.isfile(target):
                raise SITSDataError(f'{target}: listed in {meta_path} but '
                                    'missing')
            shape = np.load(s2, mmap_mode='r').shape
            grid = window_grid(shape[-2], shape[-1], self.window_size,
                               self.window_stride)
            for j, window in enumerate(grid):
                sid = f'{pid}_{j}' if self.window_size else str(pid)
                data_list.append(
                    dict(
                        img_path=s2,
                        target_path=target if self.with_labels else None,
                        dates=dates,
                        window=window,
                        sample_id=sid,
                        fold=prop['Fold'],
                        sits_format='pastis'))
        return data_list
