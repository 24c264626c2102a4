# Copyright (c) mmexact contributors. All rights reserved.
"""SITSRegionDataset: a prepared own-region layout read through the
registered pipeline: metainfo from classes.json, image labels from the
window files, the relative norm_file, split and require filters."""
import datetime
import json
import os.path as osp

import numpy as np
import pytest
from rasterio.transform import from_origin

import mmexact  # noqa: F401
from mmseg.registry import DATASETS
from mmexact.geo.region_labels import Nomenclature
from mmexact.geo.training_set import write_training_set
from mmexact.structures import SITSDataError
from mmexact.testing.fake_region import InMemoryScene

PIPELINE = [
    dict(type='LoadSITSSample'),
    dict(type='NormalizeSITS', norm_file='norm.json'),
    dict(type='PadOrCutSequence', max_seq_len=4),
    dict(type='AppendDayOfYear'),
    dict(type='PackSITSInputs'),
]


@pytest.fixture(scope='module')
def region(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('region'))
    rng = np.random.default_rng(0)
    img = rng.integers(0, 3000, (3, 2, 8, 8)).astype(np.float32)
    scene = InMemoryScene(img, [datetime.date(2021, m, 1) for m in (4, 6, 8)],
                          from_origin(0, 80, 10, 10), 'EPSG:32631')
    labels = np.full((8, 8), 255, np.uint8)
    labels[:4, :4] = 2  # truth only in window (0, 0)
    cells = np.ones((8, 8), np.int32)
    cells[:, 4:] = 2
    cell_labels = [np.array([1, 0], np.uint8), np.array([0, 1], np.uint8)]
    nom = Nomenclature(['background', 'wheat', 'maize'],
                       {'1': 1, '2': 2}, [[0, 0, 0], [1, 2, 3], [4, 5, 6]])
    blocks = osp.join(root, 'blocks_in.csv')
    with open(blocks, 'w') as f:
        f.write('block_row,block_col,split\n0,0,train\n0,1,train\n'
                '1,0,train\n1,1,test\n')
    write_training_set(scene, root, nom, ['B4', 'B8'], pixel_labels=labels,
                       cells=(cells, cell_labels), window=4, block_size=4,
                       block_file=blocks, log=lambda m: None)
    return root, img


def _build(root, **kw):
    return DATASETS.build(
        dict(type='SITSRegionDataset', data_root=root, pipeline=PIPELINE,
             **kw))


def test_region_dataset_reads_labels_and_stats(region):
    root, img = region
    ds = _build(root)
    assert ds.metainfo['classes'] == ('background', 'wheat', 'maize')
    assert ds.metainfo['bands'] == ('B4', 'B8')
    assert ds.metainfo['palette'] == [[0, 0, 0], [1, 2, 3], [4, 5, 6]]
    assert len(ds) == 3
    # the scene's dates (region.json) in every data info: the training
    # day-of-year range of the checkpoint's data contract
    assert ds.get_data_info(0)['doy'] == [91, 152, 213]
    from mmexact.utils.data_contract import _doy_range
    assert _doy_range(ds) == [91, 213]
    sample = ds[0]  # window (0, 0): cell 1 (wheat), truth maize
    ds_ = sample['data_samples']
    assert ds_.gt_cls_label.data.tolist() == [1., 0.]
    assert (ds_.gt_sem_seg.data == 2).all()
    # normalised by the training windows' statistics (norm.json)
    with open(osp.join(root, 'norm.json')) as f:
        norm = json.load(f)
    train = np.concatenate([img[..., :4, :4], img[..., :4, 4:],
                            img[..., 4:, :4]], axis=-1)
    np.testing.assert_allclose(norm['mean'], train.mean(axis=(0, 2, 3)),
                               rtol=1e-6)
    x = sample['inputs'].numpy()
    expect = (img[0, :, :4, :4] - np.array(norm['mean'])[:, None, None]) \
        / np.array(norm['std'])[:, None, None]
    np.testing.assert_allclose(x[0, :2], expect, rtol=1e-5, atol=1e-5)
    w = ds[1]['data_samples']  # window (0, 4): cell 2 (maize), no truth
    assert w.gt_cls_label.data.tolist() == [0., 1.]
    assert (w.gt_sem_seg.data == 255).all()


def test_region_dataset_filters_and_errors(region, tmp_path):
    root, _ = region
    assert len(_build(root, require='truth')) == 1
    assert len(_build(root, split='test')) == 1
    assert len(_build(root, split=('train', 'test'))) == 4
    with pytest.raises(ValueError, match='require must be'):
        _build(root, require='pixels')
    with pytest.raises(SITSDataError, match='class table'):
        _build(str(tmp_path))
    with pytest.raises(SITSDataError, match='no window in split'):
        _build(root, split='val')
    ds = DATASETS.build(
        dict(type='SITSRegionDataset', data_root=root,
             pipeline=[dict(type='LoadSITSSample'),
                       dict(type='GenerateImageLabels', num_classes=2)]))
    with pytest.raises(ValueError, match='already has image-level labels'):
        ds[0]
