# Copyright (c) mmexact contributors. All rights reserved.
"""Dataset formats are readers registered by name; LoadSITSSample maps the
void label of the data info."""
import numpy as np
import pytest

from mmexact.datasets.readers import (SITS_READERS, get_sits_reader,
                                      load_pastis24_sample)
from mmexact.datasets.transforms import GenerateImageLabels, LoadSITSSample
from mmexact.structures import SITSDataError


@pytest.fixture
def npz_reader():
    """A new layout, registered by a test: no edit of LoadSITSSample."""

    def read_npz(info):
        with np.load(info['img_path']) as data:
            return dict(img=data['x'], doy=data['d'], labels=data['y'])

    SITS_READERS.register_module(name='test_npz', module=read_npz)
    yield read_npz
    SITS_READERS._module_dict.pop('test_npz')


def _write(tmp_path, labels):
    path = tmp_path / 'sample.npz'
    img = np.arange(3 * 2 * 24 * 24, dtype=np.int16).reshape(3, 2, 24, 24)
    np.savez(path, x=img, d=np.array([40, 10, 200]), y=labels)
    return str(path), img


def test_builtin_formats_are_registered():
    assert {'pastis24', 'pastis', 'mtlcc'} <= set(SITS_READERS.module_dict)
    assert get_sits_reader('pastis24') is load_pastis24_sample


def test_new_format_through_load_sits_sample(tmp_path, npz_reader):
    labels = np.zeros((24, 24), np.uint8)
    labels[:3, :2] = 1   # 6 / 576 = 1.04 % of the window
    labels[5, :5] = 2    # 5 / 576 = 0.87 %
    labels[10:, :] = 19  # void
    path, img = _write(tmp_path, labels)
    # the data info carries the dataset's void label (SITSSegDataset)
    out = LoadSITSSample()(
        dict(img_path=path, sits_format='test_npz', void_label=19))
    out = GenerateImageLabels(num_classes=3)(out)
    # frames sorted by day of year, as for every format
    assert out['doy'].tolist() == [10, 40, 200]
    np.testing.assert_array_equal(out['img'], img[[1, 0, 2]])
    assert out['img'].dtype == np.float32
    # void -> 255; class 1 (> 1 %) present, class 2 (< 1 %) absent
    assert (out['gt_seg_map'][10:] == 255).all()
    assert out['gt_cls_label'].tolist() == [1, 0, 0]


@pytest.mark.parametrize('fraction, expected', [
    (0.01, [1, 0, 0]),    # Exact's rule: strictly above 1 %
    (0.005, [1, 1, 0]),   # 0.87 % > 0.5 %
    (6 / 576, [0, 0, 0]),  # "strictly more than": 6 / 576 is not
    (0.0, [1, 1, 0]),     # any pixel
])
def test_presence_rule_is_a_parameter(tmp_path, npz_reader, fraction,
                                      expected):
    labels = np.zeros((24, 24), np.uint8)
    labels[:3, :2] = 1
    labels[5, :5] = 2
    path, _ = _write(tmp_path, labels)
    out = LoadSITSSample()(dict(img_path=path, sits_format='test_npz'))
    out = GenerateImageLabels(num_classes=3, min_fraction=fraction)(out)
    assert out['gt_cls_label'].tolist() == expected


@pytest.mark.parametrize('void, info, mapped', [
    ('dataset', dict(void_label=19), True),    # the dataset's void label
    ('dataset', dict(void_label=None), False),  # a dataset without one
    ('dataset', dict(), False),                # a data info without the key
    (19, dict(void_label=None), True),          # an explicit value wins
    (None, dict(void_label=19), False),         # explicitly no void
])
def test_void_label_from_the_data_info(tmp_path, npz_reader, void, info,
                                       mapped):
    labels = np.zeros((24, 24), np.uint8)
    labels[10:, :] = 19
    path, _ = _write(tmp_path, labels)
    out = LoadSITSSample(void_label=void)(
        dict(img_path=path, sits_format='test_npz', **info))
    assert (out['gt_seg_map'][10:] == (255 if mapped else 19)).all()
    assert (out['gt_seg_map'][:10] == 0).all()
    assert 'gt_cls_label' not in out  # made by GenerateImageLabels


def test_image_label_arguments_moved_to_generate_image_labels():
    for kwargs in (dict(num_image_classes=17),
                   dict(num_image_classes=17, min_class_fraction=0.02)):
        with pytest.raises(TypeError, match='no longer makes image-level '
                           'labels: remove .*GenerateImageLabels'):
            LoadSITSSample(**kwargs)
    with pytest.raises(TypeError, match=r"unexpected arguments \['nope'\]"):
        LoadSITSSample(nope=1)
    with pytest.raises(ValueError, match="void_label must be an int, None "
                       "or 'dataset'"):
        LoadSITSSample(void_label='auto')
    assert repr(LoadSITSSample()) == "LoadSITSSample(void_label='dataset')"


def test_unknown_format_names_the_sample_and_the_readers(tmp_path):
    with pytest.raises(SITSDataError) as err:
        LoadSITSSample()(dict(img_path='/x/a.bin', sits_format='geotiff'))
    msg = str(err.value)
    assert msg.startswith("/x/a.bin: unknown sits_format 'geotiff'")
    assert "'mtlcc', 'pastis', 'pastis24'" in msg


def test_missing_format_is_not_guessed():
    """No default layout: a data info without ``sits_format`` is an error
    that names the file (the generic loader knows no dataset)."""
    with pytest.raises(KeyError, match=r"a\.pickle: the data info names no "
                       r"'sits_format'"):
        LoadSITSSample()(dict(img_path='/x/a.pickle'))
