# Copyright (c) mmexact contributors. All rights reserved.
import os.path as osp
from typing import List, Optional, Sequence

from mmseg.registry import DATASETS
from ..structures import SITSDataError
from .pastis_meta import PASTIS_METAINFO
from .sits_seg_dataset import SITSSegDataset

__all__ = ['PASTIS24Dataset']


@DATASETS.register_module()
class PASTIS24Dataset(SITSSegDataset):
    """PASTIS24: PASTIS cut into 24 x 24 windows (TSViT / Exact layout).

    Layout under ``data_root``::

        pickle24x24/<patch>_<j>.pickle   dict(img, labels, doy)
        fold-paths/fold_<k>_paths.csv    one relative pickle path per line

    Samples are the union of the fold lists of ``folds`` (or of explicit
    ``split_files``), in file order. Every listed pickle must exist.

    Args:
        data_root (str): Dataset root.
        folds (Sequence[int]): Official folds (1..5) to use.
            Defaults to (1, 2, 3).
        split_files (Sequence[str], optional): CSV files (relative to
            ``data_root``) to use instead of ``folds``.
        fold_file (str): Pattern of a fold's CSV. Defaults to
            ``'fold-paths/fold_{}_paths.csv'``.
        **kwargs: Passed to :class:`SITSSegDataset`.
    """

    METAINFO = PASTIS_METAINFO

    def __init__(self,
                 data_root: str,
                 folds: Sequence[int] = (1, 2, 3),
                 split_files: Optional[Sequence[str]] = None,
                 fold_file: str = 'fold-paths/fold_{}_paths.csv',
                 **kwargs) -> None:
        self.folds = tuple(folds)
        self.split_files = split_files
        self.fold_file = fold_file
        super().__init__(data_root=data_root, **kwargs)

    def load_sits_list(self) -> List[dict]:
        files = self.split_files or [
            self.fold_file.format(k) for k in self.folds
        ]
        data_list = []
        for rel in files:
            csv = osp.join(self.data_root, rel)
            if not osp.isfile(csv):
                raise SITSDataError(f'{csv}: fold list not found')
            with open(csv) as f:
                lines = [ln.strip().split(',')[0] for ln in f]
            for lineno, rel_path in enumerate(lines, 1):
                if not rel_path:
                    continue
                path = osp.join(self.data_root, rel_path)
                if not osp.isfile(path):
                    raise SITSDataError(
                        f'{csv}:{lineno}: listed file {path} does not exist')
                stem = osp.splitext(osp.basename(path))[0]
                data_list.append(
                    dict(
                        img_path=path,
                        sample_id=stem,
                        sits_format='pastis24',
                        split_file=rel))
        return data_list
