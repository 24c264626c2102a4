# Copyright (c) mmexact contributors. All rights reserved.
"""Raw-PASTIS loading against the real official metadata files."""
import json
import os.path as osp
import shutil

import numpy as np
import pytest

from mmexact.datasets import PASTISDataset
from mmexact.datasets.pastis_meta import PASTIS_FOLD1_MEAN, PASTIS_FOLD1_STD
from mmexact.datasets.transforms import NormalizeSITS


@pytest.fixture(scope='module')
def real_meta(real_data):
    return real_data('pastis-official-meta')


def test_norm_file_fold1_equals_defaults(real_meta):
    t = NormalizeSITS(norm_file=osp.join(real_meta, 'NORM_S2_patch.json'))
    np.testing.assert_array_equal(t.mean, np.float32(PASTIS_FOLD1_MEAN))
    np.testing.assert_array_equal(t.std, np.float32(PASTIS_FOLD1_STD))
    both = NormalizeSITS(
        norm_file=osp.join(real_meta, 'NORM_S2_patch.json'), folds=(1, 2))
    assert both.mean[0] == pytest.approx((1165.94 + 1207.2) / 2, abs=0.1)


def test_real_metadata_with_generated_arrays(real_meta, tmp_path):
    shutil.copy(osp.join(real_meta, 'metadata.geojson'), tmp_path)
    meta = json.loads((tmp_path / 'metadata.geojson').read_text())
    (tmp_path / 'DATA_S2').mkdir()
    (tmp_path / 'ANNOTATIONS').mkdir()
    for feat in meta['features']:
        pid = feat['properties']['ID_PATCH']
        dates = feat['properties']['dates-S2']
        t = len(dates)
        s2 = np.zeros((t, 10, 24, 24), np.int16)
        s2[:, 0] = np.arange(t)[:, None, None]  # original frame index
        np.save(tmp_path / 'DATA_S2' / f'S2_{pid}.npy', s2)
        np.save(tmp_path / 'ANNOTATIONS' / f'TARGET_{pid}.npy',
                np.zeros((3, 24, 24), np.uint8))
    ds = PASTISDataset(
        data_root=str(tmp_path), folds=(1, ), pipeline=[
            dict(type='LoadSITSSample'),
        ])
    # folds of the real subset: 10000 and 10007 are in fold 1
    assert [ds.get_data_info(i)['sample_id'] for i in range(len(ds))] == [
        '10000_0', '10007_0'
    ]
    out = ds[0]
    assert out['img'].shape == (43, 10, 24, 24)
    # 20180924 ... 20191019: sorted by day of year, so January 2019 comes
    # first and autumn 2018 / 2019 frames interleave
    assert np.all(np.diff(out['doy']) >= 0)
    assert out['doy'][0] == 17 and out['doy'][-1] == 327
    order = out['img'][:, 0, 0, 0].astype(int)
    assert sorted(order.tolist()) == list(range(43))
    assert order[0] == 11  # 20190117 is the 12th acquisition
