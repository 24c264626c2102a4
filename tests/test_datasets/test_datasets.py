# Copyright (c) mmexact contributors. All rights reserved.
import os
import os.path as osp
import shutil

import numpy as np
import pytest

from mmexact.testing import sits_pipeline
from mmexact.datasets import PASTIS24Dataset, PASTISDataset
from mmexact.structures import SITSDataError

PIPELINE = sits_pipeline(12)


def test_pastis24_folds_and_samples(fake_pastis24):
    ds = PASTIS24Dataset(
        data_root=fake_pastis24, folds=(1, 2), pipeline=PIPELINE)
    # 48 x 48 patches -> 2 x 2 windows; folds 1, 2 hold patches 10000, 10001
    assert len(ds) == 8
    assert ds.get_data_info(0)['sample_id'] == '10000_0'
    assert ds.get_data_info(7)['sample_id'] == '10001_3'
    assert ds.metainfo['classes'][0] == 'Background'
    out = ds[0]
    x, s = out['inputs'], out['data_samples']
    assert x.shape == (12, 11, 24, 24)
    seg = s.gt_sem_seg.data
    assert set(seg.unique().tolist()) <= set(range(19)) | {255}
    # image labels follow the >1 % rule on the raw ground truth
    labels = seg[0].numpy()
    present = [c for c in range(1, 19)
               if (labels == c).sum() > 0.01 * labels.size]
    assert np.flatnonzero(s.gt_cls_label.numpy()).tolist() == [
        c - 1 for c in present
    ]


def test_pastis24_missing_listed_file(fake_pastis24, tmp_path):
    root = tmp_path / 'p24'
    shutil.copytree(fake_pastis24, root)
    victim = root / 'pickle24x24' / '10000_2.pickle'
    os.remove(victim)
    with pytest.raises(SITSDataError, match=r'fold_1_paths.csv:3: listed '
                       r'file .*10000_2.pickle does not exist'):
        PASTIS24Dataset(data_root=str(root), folds=(1, ), pipeline=[])
    with pytest.raises(SITSDataError, match='fold_9_paths.csv: fold list '
                       'not found'):
        PASTIS24Dataset(data_root=str(root), folds=(9, ), pipeline=[])


def test_raw_and_pastis24_give_identical_samples(fake_pastis24):
    raw = PASTISDataset(
        data_root=osp.join(fake_pastis24, 'raw'), folds=(3, ),
        pipeline=PIPELINE)
    p24 = PASTIS24Dataset(
        data_root=fake_pastis24, folds=(3, ), pipeline=PIPELINE)
    assert len(raw) == len(p24) == 4
    for i in range(4):
        a, b = raw[i], p24[i]
        assert a['data_samples'].sample_id == b['data_samples'].sample_id
        assert (a['inputs'] == b['inputs']).all()
        assert (a['data_samples'].gt_sem_seg.data ==
                b['data_samples'].gt_sem_seg.data).all()


def test_raw_windows_and_whole_patches(fake_pastis):
    ds = PASTISDataset(
        data_root=fake_pastis, folds=(1, 2, 3, 4, 5), window_size=16,
        window_stride=16, pipeline=[])
    assert len(ds) == 5 * 9
    assert ds.get_data_info(4)['window'] == (16, 16, 16, 16)
    whole = PASTISDataset(
        data_root=fake_pastis, folds=(2, ), window_size=None, pipeline=[])
    assert len(whole) == 1
    assert whole.get_data_info(0)['window'] == (0, 0, 48, 48)


def test_pseudo_labels_are_not_a_dataset_field(fake_pastis24, tmp_path):
    """Pseudo labels are read by the LoadPseudoLabel transform (see
    test_load_pseudo_label.py); the old dataset field says so."""
    with pytest.raises(TypeError, match="dict\\(type='LoadPseudoLabel'"):
        PASTIS24Dataset(
            data_root=fake_pastis24, folds=(1, ), pipeline=PIPELINE,
            pseudo_label_dir=str(tmp_path))


def test_metadata_without_dates(fake_pastis, tmp_path):
    import json
    root = tmp_path / 'raw'
    shutil.copytree(fake_pastis, root)
    meta = json.loads((root / 'metadata.geojson').read_text())
    del meta['features'][0]['properties']['dates-S2']
    (root / 'metadata.geojson').write_text(json.dumps(meta))
    with pytest.raises(SITSDataError, match=r'ID_PATCH 10000\): feature '
                       'lacks ID_PATCH or dates-S2'):
        PASTISDataset(data_root=str(root), folds=(1, ), pipeline=[])


def test_converter_cli_three_channel_labels(fake_pastis, tmp_path):
    import pickle
    import runpy
    import sys
    argv = sys.argv
    sys.argv = [
        'pastis_to_pastis24.py', fake_pastis, str(tmp_path), '--folds', '2',
        '--label-channels', '3'
    ]
    try:
        runpy.run_path(
            osp.join(osp.dirname(osp.dirname(osp.dirname(__file__))),
                     'tools', 'dataset_converters', 'pastis_to_pastis24.py'),
            run_name='__main__')
    finally:
        sys.argv = argv
    lines = (tmp_path / 'fold-paths' / 'fold_2_paths.csv').read_text().split()
    assert lines == [f'pickle24x24/10001_{j}.pickle' for j in range(4)]
    with open(tmp_path / lines[3], 'rb') as f:
        sample = pickle.load(f)
    raw_target = np.load(osp.join(fake_pastis, 'ANNOTATIONS',
                                  'TARGET_10001.npy'))
    assert sample['labels'].shape == (3, 24, 24)
    assert (sample['labels'] == raw_target[:, 24:, 24:]).all()
    assert sample['img'].dtype == np.int16
    assert np.all(np.diff(sample['doy']) >= 0)
