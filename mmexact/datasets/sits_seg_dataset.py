# Copyright (c) mmexact contributors. All rights reserved.
from typing import List

from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

__all__ = ['SITSSegDataset']


@DATASETS.register_module()
class SITSSegDataset(BaseSegDataset):
    """Base class of SITS segmentation datasets; it knows no dataset.

    Subclasses implement :meth:`load_sits_list`, returning one dict per
    sample with at least ``img_path``, ``sample_id`` and ``sits_format``
    (the name of a registered reader, see ``SITS_READERS``), and describe
    their data in ``METAINFO``: ``classes`` and ``palette``, ``bands``
    (the band names in channel order; saved in every checkpoint as part of
    ``meta['dataset_meta']``, inference reads the band order from there)
    and, where the labels have one, ``void_label`` (the raw void value).
    This class adds mmseg's bookkeeping keys and the ``void_label`` of the
    metainfo (None without one) to each data info, for ``LoadSITSSample``,
    which maps it to 255. Labels are read by the pipeline
    (``LoadSITSSample``; image-level labels made by ``GenerateImageLabels``;
    pseudo labels, e.g. for Exact's stage 2, by the ``LoadPseudoLabel``
    transform). Datasets are never modified on disk.

    Args:
        **kwargs: Passed to :class:`mmseg.datasets.BaseSegDataset`.
    """

    METAINFO: dict = dict()

    def __init__(self, **kwargs) -> None:
        if 'pseudo_label_dir' in kwargs:
            raise TypeError(
                'SITS datasets no longer read pseudo labels: remove '
                "pseudo_label_dir and add dict(type='LoadPseudoLabel', "
                'pseudo_label_dir=...) to the pipeline after LoadSITSSample')
        kwargs.setdefault('img_suffix', '')
        kwargs.setdefault('seg_map_suffix', '.png')
        super().__init__(**kwargs)

    def load_sits_list(self) -> List[dict]:
        """Return the raw sample list (implemented by subclasses)."""
        raise NotImplementedError

    def load_data_list(self) -> List[dict]:
        data_list = self.load_sits_list()
        void_label = self.metainfo.get('void_label', None)
        for info in data_list:
            info.setdefault('seg_map_path', None)
            info.update(
                label_map=self.label_map,
                reduce_zero_label=self.reduce_zero_label,
                void_label=void_label,
                seg_fields=[])
        return data_list
