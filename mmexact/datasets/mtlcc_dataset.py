# Copyright (c) mmexact contributors. All rights reserved.
import glob
import os.path as osp
from typing import List, Optional

from mmseg.registry import DATASETS
from ..structures import MTLCC_BANDS, SITSDataError
from .pastis_dataset import window_grid
from .readers import read_mtlcc_record
from .sits_seg_dataset import SITSSegDataset

__all__ = ['MTLCCDataset']

# Class c (1..17) is the c-th MTLCC crop id of MTLCC_CLASS_IDS; 0 collects
# the pixels MTLCC labels "unknown" (unless they are ignored).
MTLCC_CLASSES = ('Background/unknown', 'Sugar beet', 'Summer oat', 'Meadow',
                 'Rape', 'Hop', 'Winter spelt', 'Winter triticale', 'Beans',
                 'Peas', 'Potatoes', 'Soybeans', 'Asparagus', 'Winter wheat',
                 'Winter barley', 'Winter rye', 'Summer barley', 'Maize')
MTLCC_PALETTE = [[0, 0, 0], [200, 60, 60], [212, 181, 115], [91, 172, 73],
                 [246, 239, 30], [40, 120, 60], [255, 220, 140],
                 [130, 160, 220], [120, 220, 120], [60, 200, 190],
                 [150, 90, 40], [60, 90, 200], [230, 80, 150],
                 [243, 208, 74], [171, 125, 61], [122, 42, 110],
                 [190, 190, 60], [237, 120, 40]]
_SUFFIX = '.tfrecord.gz'


@DATASETS.register_module()
class MTLCCDataset(SITSSegDataset):
    """MTLCC ("Germany", Rußwurm & Körner 2018) tiles, optionally windowed.

    Layout under ``data_root`` (the ``data_IJGI18`` folder)::

        datasets/full/240/data17/<tile>.tfrecord.gz   24 x 24 px tiles
        datasets/full/480/data17/<tile>.tfrecord.gz   48 x 48 px tiles
        datasets/full/240/tileids/train_fold0.tileids one tile id per line
        (data16/ holds the 2016 season in the same layout)

    Tiles come from ``data_prefix['img_path']``: the ids listed in
    ``ann_file`` (a ``.tileids`` file, ids separated by white space), or
    every ``*.tfrecord.gz`` there (sorted) when ``ann_file`` is empty.
    Each tile is cut row-major into ``window_size`` windows (a 24 x 24 tile
    gives one window, a 48 x 48 tile four); sample ids are
    ``<tile>_<j>``, or ``<tile>`` with ``window_size=None``. The tile size
    is ``tile_size`` or, if None, read once from the first tile (MTLCC
    folders are homogeneous). Samples use ``sits_format='mtlcc'``.

    Args:
        data_root (str): Dataset root.
        ann_file (str): Tile-id file relative to ``data_root``; ``''``
            lists the folder. Defaults to ``''``.
        data_prefix (dict, optional): ``img_path``: folder of the tiles.
            Defaults to ``dict(img_path='datasets/full/240/data17')``.
        window_size (int, optional): Window side. Defaults to 24.
        window_stride (int, optional): Defaults to ``window_size``.
        tile_size (int, optional): Tile side; read from the data if None.
        unknown_as (str): MTLCC's unknown label (0) becomes background 0
            (``'background'``) or ignore 255 (``'ignore'``).
        **kwargs: Passed to :class:`SITSSegDataset`.
    """

    # no void label: the reader maps MTLCC's unknown to 0 or 255 already
    METAINFO = dict(
        classes=MTLCC_CLASSES, palette=MTLCC_PALETTE, bands=MTLCC_BANDS)

    def __init__(self,
                 data_root: str,
                 ann_file: str = '',
                 data_prefix: Optional[dict] = None,
                 window_size: Optional[int] = 24,
                 window_stride: Optional[int] = None,
                 tile_size: Optional[int] = None,
                 unknown_as: str = 'background',
                 **kwargs) -> None:
        if unknown_as not in ('background', 'ignore'):
            raise ValueError("unknown_as must be 'background' or 'ignore', "
                             f'got {unknown_as!r}')
        self.window_size = window_size
        self.window_stride = window_stride
        self.tile_size = tile_size
        self.unknown_as = unknown_as
        super().__init__(
            data_root=data_root,
            ann_file=ann_file,
            data_prefix=data_prefix or dict(
                img_path='datasets/full/240/data17'),
            **kwargs)

    def _tile_paths(self) -> List[tuple]:
        folder = self.data_prefix.get('img_path', '')
        if not osp.isdir(folder):
            raise SITSDataError(f'{folder}: MTLCC tile folder not found')
        if not self.ann_file:
            paths = sorted(glob.glob(osp.join(folder, '*' + _SUFFIX)))
            if not paths:
                raise SITSDataError(f'{folder}: no *{_SUFFIX} tiles')
            return [(p, osp.basename(p)[:-len(_SUFFIX)]) for p in paths]
        if not osp.isfile(self.ann_file):
            raise SITSDataError(f'{self.ann_file}: tile-id file not found')
        with open(self.ann_file) as f:
            lines = f.read().splitlines()
        out = []
        for lineno, line in enumerate(lines, 1):
            for tile in line.split():
                path = osp.join(folder, tile + _SUFFIX)
                if not osp.isfile(path):
                    raise SITSDataError(f'{self.ann_file}:{lineno}: listed '
                                        f'tile {path} does not exist')
                out.append((path, tile))
        if not out:
            raise SITSDataError(f'{self.ann_file}: no tile ids listed')
        return out

    def load_sits_list(self) -> List[dict]:
        tiles = self._tile_paths()
        size = self.tile_size
        if size is None and self.window_size is not None:
            size = read_mtlcc_record(tiles[0][0])['x10'].shape[1]
        grid = window_grid(size, size, self.window_size, self.window_stride)
        if not grid:
            raise SITSDataError(f'{tiles[0][0]}: tiles of {size} px hold no '
                                f'{self.window_size} px window')
        data_list = []
        for path, tile in tiles:
            for j, window in enumerate(grid):
                data_list.append(
                    dict(
                        img_path=path,
                        sample_id=f'{tile}_{j}' if self.window_size else tile,
                        window=window if self.window_size else None,
                        unknown_as=self.unknown_as,
                        sits_format='mtlcc'))
        return data_list
