# Copyright (c) mmexact contributors. All rights reserved.
import os.path as osp
from typing import List, Optional

from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS
from .pastis_meta import PASTIS_CLASSES, PASTIS_PALETTE
from .readers import SITSDataError

__all__ = ['SITSSegDataset']


@DATASETS.register_module()
class SITSSegDataset(BaseSegDataset):
    """Base class of SITS segmentation datasets (PASTIS classes by default).

    Subclasses implement :meth:`load_sits_list`, returning one dict per
    sample with at least ``img_path``, ``sample_id`` and ``sits_format``.
    This class adds what every SITS dataset shares: mmseg's bookkeeping
    keys, and the optional pseudo-label override used by stage 2 of Exact —
    with ``pseudo_label_dir`` set, ``<pseudo_label_dir>/<sample_id>.png``
    replaces the pixel labels of every sample (the image-level labels stay
    those of the ground truth). A missing PNG is an error raised when the
    dataset is built, naming the file. Datasets are never modified on disk.

    Args:
        pseudo_label_dir (str, optional): Directory of pseudo-label PNGs.
        **kwargs: Passed to :class:`mmseg.datasets.BaseSegDataset`.
    """

    METAINFO = dict(classes=PASTIS_CLASSES, palette=PASTIS_PALETTE)

    def __init__(self, pseudo_label_dir: Optional[str] = None,
                 **kwargs) -> None:
        self.pseudo_label_dir = pseudo_label_dir
        kwargs.setdefault('img_suffix', '')
        kwargs.setdefault('seg_map_suffix', '.png')
        super().__init__(**kwargs)

    def load_sits_list(self) -> List[dict]:
        """Return the raw sample list (implemented by subclasses)."""
        raise NotImplementedError

    def load_data_list(self) -> List[dict]:
        data_list = self.load_sits_list()
        pseudo_dir = self.pseudo_label_dir
        if pseudo_dir is not None and not osp.isdir(pseudo_dir):
            raise SITSDataError(f'{pseudo_dir}: pseudo-label directory does '
                                'not exist')
        missing = []
        for info in data_list:
            info.setdefault('seg_map_path', None)
            info.update(
                label_map=self.label_map,
                reduce_zero_label=self.reduce_zero_label,
                seg_fields=[])
            if pseudo_dir is not None:
                path = osp.join(pseudo_dir, info['sample_id'] + '.png')
                if not osp.isfile(path):
                    missing.append(path)
                info['seg_map_path'] = path
        if missing:
            raise SITSDataError(
                f'{len(missing)} pseudo-label file(s) missing, e.g. '
                f'{missing[0]}; generate them with '
                'tools/generate_pseudo_labels.py')
        return data_list
