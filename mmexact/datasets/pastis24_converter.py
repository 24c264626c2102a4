# Copyright (c) mmexact contributors. All rights reserved.
"""Convert the raw PASTIS layout to PASTIS24 window pickles."""
import os
import os.path as osp
import pickle
from typing import Dict, Iterable, List, Optional, Sequence

import numpy as np

from ..structures import SITSDataError
from .pastis_dataset import PASTISDataset, window_grid
from .readers import read_pastis_window

__all__ = ['convert_pastis_to_pastis24', 'write_fold_lists']

# Train unions of the standard 5-fold rotation (train, val, test):
# 1: ([1,2,3],[4],[5]) ... 5: ([5,1,2],[3],[4]).
ROTATION_UNIONS = {k: tuple((k - 1 + i) % 5 + 1 for i in range(3))
                   for k in range(1, 6)}


def write_fold_lists(dst_root: str, fold_members: Dict[int, List[str]]
                     ) -> List[str]:
    """Write ``fold-paths/fold_<k>_paths.csv`` and the train unions.

    Args:
        dst_root (str): PASTIS24 root.
        fold_members (dict[int, list[str]]): Relative pickle paths per fold.

    Returns:
        list[str]: The CSV files written (relative to ``dst_root``).
    """
    os.makedirs(osp.join(dst_root, 'fold-paths'), exist_ok=True)
    written = []

    def _write(name: str, rows: Iterable[str]) -> None:
        with open(osp.join(dst_root, 'fold-paths', name), 'w') as f:
            f.writelines(f'{r}\n' for r in rows)
        written.append(osp.join('fold-paths', name))

    for k, rows in sorted(fold_members.items()):
        _write(f'fold_{k}_paths.csv', rows)
    for k, union in ROTATION_UNIONS.items():
        if all(f in fold_members for f in union):
            name = f'folds_{k}_{"".join(map(str, union))}_paths.csv'
            _write(name, [r for f in union for r in fold_members[f]])
    return written


def convert_pastis_to_pastis24(src_root: str,
                               dst_root: str,
                               folds: Sequence[int] = (1, 2, 3, 4, 5),
                               window: int = 24,
                               label_channels: int = 1,
                               progress: Optional[callable] = None
                               ) -> Dict[int, List[str]]:
    """Cut every PASTIS patch into window pickles (the TSViT layout).

    Windows are the non-overlapping ``window`` x ``window`` tiles of the
    patch, row-major (a 5 x 5 grid for 128 x 128 patches, the remainder
    dropped), named ``<ID_PATCH>_<j>.pickle``. Each pickle holds ``img``
    int16 (T, 10, w, w) sorted by day of year, ``doy`` int64 (T,) and
    ``labels`` uint8: (w, w) semantic labels (Exact's layout) or, with
    ``label_channels=3``, the three TARGET channels (the official TSViT
    release). Image-level labels are *not* stored; mmexact derives them on
    the fly.

    Args:
        src_root (str): Raw PASTIS root (``metadata.geojson``, ``DATA_S2``,
            ``ANNOTATIONS``).
        dst_root (str): Output root (``pickle24x24/``, ``fold-paths/``).
        folds (Sequence[int]): Folds to convert.
        window (int): Window size. Defaults to 24.
        label_channels (int): 1 or 3. Defaults to 1.
        progress (callable, optional): Called with each written path.

    Returns:
        dict[int, list[str]]: Relative pickle paths per fold.
    """
    if label_channels not in (1, 3):
        raise ValueError('label_channels must be 1 or 3')
    dataset = PASTISDataset(
        data_root=src_root,
        folds=folds,
        window_size=None,
        lazy_init=True,
        serialize_data=False)
    os.makedirs(osp.join(dst_root, 'pickle24x24'), exist_ok=True)
    members: Dict[int, List[str]] = {}
    for info in dataset.load_sits_list():
        pid = info['sample_id']
        full = read_pastis_window(info['img_path'], None, info['dates'],
                                  info['window'])
        target = np.load(info['target_path'], allow_pickle=False)
        if target.ndim == 2:
            target = target[None]
        if label_channels == 1:
            target = target[:1]
        _, _, h, w = full['img'].shape
        for j, (y, x, s, _) in enumerate(window_grid(h, w, window, window)):
            lab = np.ascontiguousarray(target[:, y:y + s, x:x + s])
            if lab.max(initial=0) > 255:
                raise SITSDataError(f'{info["target_path"]}: labels do not '
                                    'fit in uint8')
            sample = dict(
                img=np.ascontiguousarray(
                    full['img'][:, :, y:y + s, x:x + s]).astype(np.int16),
                labels=lab.astype(np.uint8)[0] if label_channels == 1 else
                lab.astype(np.uint8),
                doy=full['doy'].astype(np.int64))
            rel = osp.join('pickle24x24', f'{pid}_{j}.pickle')
            with open(osp.join(dst_root, rel), 'wb') as f:
                pickle.dump(sample, f, protocol=pickle.HIGHEST_PROTOCOL)
            members.setdefault(info['fold'], []).append(rel)
            if progress is not None:
                progress(rel)
    write_fold_lists(dst_root, members)
    return members
