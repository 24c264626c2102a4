# Copyright (c) mmexact contributors. All rights reserved.
import os
import pickle

import numpy as np
import pytest

from mmexact.datasets.readers import (dates_to_doy, read_pastis24_window,
                                      read_pastis_window, read_pseudo_label)
from mmexact.structures import SITSDataError
from mmexact.utils import UnsafePickleError, safe_pickle_load


def _window(path, **over):
    sample = dict(
        img=np.zeros((3, 10, 24, 24), np.int16),
        labels=np.zeros((24, 24), np.uint8),
        doy=np.array([10, 20, 30]))
    sample.update(over)
    sample = {k: v for k, v in sample.items() if v is not None}
    with open(path, 'wb') as f:
        pickle.dump(sample, f)
    return str(path)


def test_reads_window_and_three_channel_labels(tmp_path):
    labels = np.zeros((3, 24, 24), np.uint8)
    labels[0, :2] = 5
    labels[1] = 77  # per-parcel values in channels 1-2 must be ignored
    out = read_pastis24_window(_window(tmp_path / 'a.pickle', labels=labels))
    assert out['labels'].shape == (24, 24)
    assert out['labels'].max() == 5 and (out['labels'] == 5).sum() == 48
    assert out['doy'].dtype == np.int64
    assert out['doy'].tolist() == [10, 20, 30]


def test_truncated_pickle(tmp_path):
    path = _window(tmp_path / 'a.pickle')
    data = open(path, 'rb').read()
    with open(path, 'wb') as f:
        f.write(data[:len(data) // 2])
    with pytest.raises(ValueError, match='a.pickle.*truncated'):
        read_pastis24_window(path)


def test_missing_img(tmp_path):
    path = _window(tmp_path / 'b.pickle', img=None)
    with pytest.raises(SITSDataError, match=r"b.pickle: missing key\(s\) "
                       r"\['img'\]"):
        read_pastis24_window(path)


def test_wrong_img_rank(tmp_path):
    path = _window(tmp_path / 'c.pickle', img=np.zeros((10, 24, 24)))
    with pytest.raises(SITSDataError, match=r'c.pickle: "img" must be a '
                       r'\(T, C, H, W\) array, got \(10, 24, 24\)'):
        read_pastis24_window(path)


def test_labels_out_of_range(tmp_path):
    labels = np.zeros((24, 24), np.uint8)
    labels[3, 3] = 20
    path = _window(tmp_path / 'd.pickle', labels=labels)
    with pytest.raises(SITSDataError, match='d.pickle: label values must lie'
                       ' in 0..19, found 0..20'):
        read_pastis24_window(path)


def test_empty_series(tmp_path):
    path = _window(
        tmp_path / 'e.pickle',
        img=np.zeros((0, 10, 24, 24), np.int16),
        doy=np.zeros(0, np.int64))
    with pytest.raises(SITSDataError, match=r'e.pickle: the time series is '
                       r'empty \(T = 0\)'):
        read_pastis24_window(path)


@pytest.mark.parametrize('bad', [0, 367])
def test_bad_day_of_year(tmp_path, bad):
    path = _window(tmp_path / 'f.pickle', doy=np.array([10, bad, 30]))
    with pytest.raises(SITSDataError,
                       match=rf'f.pickle: day-of-year values must lie in '
                       rf'1..366, found \[{bad}\]'):
        read_pastis24_window(path)


class _Evil:

    def __reduce__(self):
        return (os.system, ('touch pwned',))


def test_malicious_pickle_executes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / 'evil.pickle'
    with open(path, 'wb') as f:
        pickle.dump(dict(img=_Evil()), f)
    with pytest.raises(UnsafePickleError, match=r'evil.pickle: refusing to '
                       r'unpickle global "(posix|os).system"'):
        read_pastis24_window(str(path))
    assert not (tmp_path / 'pwned').exists()


def test_safe_pickle_roundtrips_numpy(tmp_path):
    path = tmp_path / 'x.pickle'
    obj = dict(a=np.arange(5, dtype=np.int16), b=[1, 2.5, 'x'],
               c=np.float64(2.5))
    with open(path, 'wb') as f:
        pickle.dump(obj, f)
    out = safe_pickle_load(str(path))
    assert out['a'].dtype == np.int16 and out['a'].tolist() == [0, 1, 2, 3, 4]
    assert out['b'] == [1, 2.5, 'x'] and out['c'] == 2.5


def test_dates_to_doy_ignores_year():
    assert dates_to_doy([20180924, '20190101', 20191231]).tolist() == [
        267, 1, 365
    ]
    assert dates_to_doy([20200229, 20201231]).tolist() == [60, 366]
    with pytest.raises(SITSDataError, match='invalid S2 date 20181332'):
        dates_to_doy([20181332])


def test_raw_window_sorted_by_doy(tmp_path):
    s2 = np.zeros((3, 10, 8, 8), np.int16)
    s2[:, 0] = np.array([1, 2, 3])[:, None, None]  # frame id in band 0
    np.save(tmp_path / 's2.npy', s2)
    target = np.zeros((3, 8, 8), np.uint8)
    target[0, 4:, 4:] = 7
    np.save(tmp_path / 't.npy', target)
    out = read_pastis_window(
        str(tmp_path / 's2.npy'), str(tmp_path / 't.npy'),
        [20181001, 20190105, 20190101], (4, 4, 4, 4))
    # doy 274, 5, 1 -> sorted 1, 5, 274 = frames 3, 2, 1
    assert out['doy'].tolist() == [1, 5, 274]
    assert out['img'][:, 0, 0, 0].tolist() == [3, 2, 1]
    assert out['img'].shape == (3, 10, 4, 4)
    assert (out['labels'] == 7).all()
    with pytest.raises(SITSDataError, match='3 frames but 2 dates'):
        read_pastis_window(
            str(tmp_path / 's2.npy'), None, [20181001, 20190105],
            (0, 0, 4, 4))


def test_pseudo_label_checks(tmp_path):
    from PIL import Image
    ok = np.zeros((24, 24), np.uint8)
    ok[0, 0] = 18
    Image.fromarray(ok).save(tmp_path / 'ok.png')
    assert read_pseudo_label(str(tmp_path / 'ok.png'), (24, 24),
                             19)[0, 0] == 18
    Image.fromarray(np.zeros((12, 24), np.uint8)).save(tmp_path / 's.png')
    with pytest.raises(SITSDataError, match=r's.png: pseudo label has shape '
                       r'\(12, 24\), expected \(24, 24\)'):
        read_pseudo_label(str(tmp_path / 's.png'), (24, 24), 19)
    bad = ok.copy()
    bad[1, 1] = 40
    Image.fromarray(bad).save(tmp_path / 'v.png')
    with pytest.raises(SITSDataError, match=r'v.png: pseudo-label values '
                       r'must lie in 0..18 \(or 255\), found \[40\]'):
        read_pseudo_label(str(tmp_path / 'v.png'), (24, 24), 19)
    with pytest.raises(SITSDataError, match='missing.png: pseudo-label file '
                       'not found'):
        read_pseudo_label(str(tmp_path / 'missing.png'), (24, 24), 19)
