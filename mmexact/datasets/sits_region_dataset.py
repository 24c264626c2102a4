# Copyright (c) mmexact contributors. All rights reserved.
import copy
import csv
import datetime
import json
import os.path as osp
from typing import List, Optional, Sequence, Union

from mmseg.registry import DATASETS
from ..structures import SITSDataError
from .sits_seg_dataset import SITSSegDataset

__all__ = ['SITSRegionDataset']


@DATASETS.register_module()
class SITSRegionDataset(SITSSegDataset):
    """Windows of your own region, prepared by
    ``tools/dataset_converters/scene_to_windows.py``.

    Layout under ``data_root`` (see :mod:`mmexact.geo.training_set`)::

        windows/<sample_id>.npz   img, doy, labels, [image_labels]
        splits/<split>.csv        sample_id,path,image_labels,truth
        classes.json              classes, palette, bands
        norm.json                 training-split band statistics
        region.json               the scene's dates (data infos' ``doy``)

    The metainfo (classes, palette, bands) comes from ``classes.json``, so
    a config names the region by ``data_root`` alone; a relative
    ``norm_file`` of a ``NormalizeSITS`` step in ``pipeline`` is taken
    relative to ``data_root`` (as mmseg's ``data_prefix``), so the shipped
    configs say ``norm_file='norm.json'``. Windows carry their image-level
    labels (``image_labels``, from parcels by the presence rule or from
    cells listing their crops), put into ``gt_cls_label`` by
    ``LoadSITSSample``: the own-region pipelines have no
    ``GenerateImageLabels``.

    Args:
        data_root (str): The prepared region.
        split (str | Sequence[str]): ``'train'``, ``'val'``, ``'test'`` or
            several. Defaults to ``'train'``.
        require (str, optional): Keep only the windows that have
            ``'image_labels'`` (Exact stage 1) or pixel ``'truth'``
            (fully supervised training, evaluation); None keeps all.
        **kwargs: Passed to :class:`SITSSegDataset`.
    """

    REQUIRE = ('image_labels', 'truth')

    def __init__(self,
                 data_root: str,
                 split: Union[str, Sequence[str]] = 'train',
                 require: Optional[str] = None,
                 **kwargs) -> None:
        if require is not None and require not in self.REQUIRE:
            raise ValueError(f'require must be one of {self.REQUIRE} or None'
                             f', got {require!r}')
        self.splits = (split, ) if isinstance(split, str) else tuple(split)
        self.require = require
        table = osp.join(data_root, 'classes.json')
        try:
            with open(table) as f:
                info = json.load(f)
        except (OSError, json.JSONDecodeError) as exc:
            raise SITSDataError(
                f'{table}: cannot read the class table of the region '
                f'({exc}); prepare the region with '
                'tools/dataset_converters/scene_to_windows.py') from None
        meta = dict(classes=tuple(info['classes']), palette=info['palette'],
                    bands=tuple(info['bands']), void_label=None)
        meta.update(kwargs.pop('metainfo', None) or {})
        kwargs['pipeline'] = self._resolve(kwargs.get('pipeline', []),
                                           data_root)
        super().__init__(data_root=data_root, metainfo=meta, **kwargs)

    @staticmethod
    def _resolve(pipeline: list, data_root: str) -> list:
        pipeline = copy.deepcopy(list(pipeline))
        for step in pipeline:
            if isinstance(step, dict) and step.get('type') == 'NormalizeSITS'\
                    and isinstance(step.get('norm_file'), str) \
                    and not osp.isabs(step['norm_file']):
                step['norm_file'] = osp.join(data_root, step['norm_file'])
        return pipeline

    def _scene_doy(self) -> Optional[List[int]]:
        """Day of year of the scene's dates (``region.json``), shared by
        every window; None without the file."""
        path = osp.join(self.data_root, 'region.json')
        if not osp.isfile(path):
            return None
        try:
            with open(path) as f:
                dates = json.load(f)['scene']['dates']
            return [datetime.date.fromisoformat(d).timetuple().tm_yday
                    for d in dates]
        except (OSError, KeyError, ValueError, TypeError) as exc:
            raise SITSDataError(f'{path}: cannot read the scene dates '
                                f'({exc})') from None

    def load_sits_list(self) -> List[dict]:
        num_classes = len(self.metainfo['classes'])
        doy = self._scene_doy()
        data_list = []
        for split in self.splits:
            path = osp.join(self.data_root, 'splits', f'{split}.csv')
            if not osp.isfile(path):
                raise SITSDataError(f'{path}: split list not found')
            with open(path, newline='') as f:
                for lineno, row in enumerate(csv.DictReader(f), 2):
                    if self.require and row.get(self.require) != '1':
                        continue
                    img = osp.join(self.data_root, row['path'])
                    if not osp.isfile(img):
                        raise SITSDataError(f'{path}:{lineno}: listed file '
                                            f'{img} does not exist')
                    info = dict(img_path=img, sample_id=row['sample_id'],
                                sits_format='sits_window',
                                num_classes=num_classes, split=split)
                    if doy is not None:  # the training dates (contract)
                        info['doy'] = doy
                    data_list.append(info)
        if not data_list:
            raise SITSDataError(
                f'{self.data_root}: no window in split(s) {self.splits}'
                + (f' with {self.require}' if self.require else ''))
        return data_list
