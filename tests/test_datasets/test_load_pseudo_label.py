# Copyright (c) mmexact contributors. All rights reserved.
"""LoadPseudoLabel: pseudo labels come from a transform, not the dataset."""
import numpy as np
import pytest
from PIL import Image

from mmexact.datasets import PASTIS24Dataset
from mmexact.datasets.readers import SITSDataError
from mmexact.datasets.transforms import LoadPseudoLabel
from mmexact.testing import sits_pipeline


def _pipeline(pseudo_dir):
    pipe = sits_pipeline(12)
    # after loading, before packing (and any spatial augmentation)
    return pipe[:-1] + [dict(type='LoadPseudoLabel',
                             pseudo_label_dir=str(pseudo_dir))] + pipe[-1:]


def test_pseudo_labels_replace_pixel_labels_only(fake_pastis24, tmp_path):
    gt_ds = PASTIS24Dataset(data_root=fake_pastis24, folds=(1, ),
                            pipeline=sits_pipeline(12))
    for i in range(len(gt_ds)):
        sid = gt_ds.get_data_info(i)['sample_id']
        label = np.full((24, 24), 7, np.uint8)
        label[0, :i + 1] = 255  # a different map per window
        Image.fromarray(label).save(tmp_path / f'{sid}.png')
    ds = PASTIS24Dataset(data_root=fake_pastis24, folds=(1, ),
                         pipeline=_pipeline(tmp_path))
    for i in (0, 3):
        s, gt = ds[i]['data_samples'], gt_ds[i]['data_samples']
        seg = s.gt_sem_seg.data[0]
        assert (seg[1:] == 7).all() and (seg[0, :i + 1] == 255).all()
        assert (seg[0, i + 1:] == 7).all()
        # image-level labels and inputs: those of the ground-truth sample
        assert (s.gt_cls_label == gt.gt_cls_label).all()
        assert (ds[i]['inputs'] == gt_ds[i]['inputs']).all()
        assert s.metainfo['seg_map_path'].endswith(
            f'{s.metainfo["sample_id"]}.png')


def test_errors_name_the_file(fake_pastis24, tmp_path):
    results = dict(sample_id='10000_1', img=np.zeros((3, 10, 24, 24)),
                   gt_seg_map=np.zeros((24, 24), np.uint8))
    with pytest.raises(SITSDataError, match='missing_dir: pseudo-label '
                       'directory does not exist'):
        LoadPseudoLabel(str(tmp_path / 'missing_dir'))(dict(results))
    with pytest.raises(SITSDataError, match=r'10000_1.png: pseudo-label '
                       'file not found; generate'):
        LoadPseudoLabel(str(tmp_path))(dict(results))
    Image.fromarray(np.zeros((12, 12), np.uint8)).save(
        tmp_path / '10000_1.png')
    with pytest.raises(SITSDataError, match=r'10000_1.png: pseudo label has '
                       r'shape \(12, 12\), expected \(24, 24\)'):
        LoadPseudoLabel(str(tmp_path))(dict(results))
    Image.fromarray(np.full((24, 24), 19, np.uint8)).save(
        tmp_path / '10000_1.png')
    with pytest.raises(SITSDataError, match=r'values must lie in 0\.\.18'):
        LoadPseudoLabel(str(tmp_path))(dict(results))
    with pytest.raises(ValueError, match='needs a pseudo_label_dir'):
        LoadPseudoLabel('')
