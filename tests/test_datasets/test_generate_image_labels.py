# Copyright (c) mmexact contributors. All rights reserved.
"""Image-level labels are a transform of their own (GenerateImageLabels);
void and the class tables come from the dataset's metainfo."""
import numpy as np
import pytest
from mmengine.dataset import Compose

from mmexact.datasets import (MTLCCDataset, PASTIS24Dataset, PASTISDataset,
                              SITSSegDataset)
from mmexact.datasets.pastis_meta import PASTIS_CLASSES, remap_void
from mmexact.datasets.transforms import GenerateImageLabels
from mmexact.datasets.transforms.generate_image_labels import \
    image_labels_from_mask
from mmexact.structures import MTLCC_BANDS, S2_BANDS
from mmexact.testing import sits_pipeline
from mmseg.registry import TRANSFORMS


def test_presence_rule_boundary():
    mask = np.zeros((24, 24), np.uint8)
    mask.flat[:6] = 3  # 6 px > 5.76 -> present
    mask.flat[6:11] = 17  # 5 px -> absent
    mask.flat[11:100] = 255  # void / ignored pixels count as background
    out = GenerateImageLabels(num_classes=18)(dict(gt_seg_map=mask))
    labels = out['gt_cls_label']
    assert labels.shape == (18, ) and labels.dtype == np.uint8
    assert np.flatnonzero(labels).tolist() == [2]  # class 3 -> index 2
    assert out['gt_seg_map'] is mask  # labels untouched
    with pytest.raises(ValueError, match=r'expected an \(H, W\) label map'):
        image_labels_from_mask(mask[None], 18)


@pytest.mark.parametrize('num_classes', [17, 18, 19])
def test_same_labels_as_the_rule_on_raw_labels(num_classes):
    """Former LoadSITSSample: the rule on the raw labels, ignoring 0, 255
    and void 19; now: on the labels with void mapped to 255. Equal for
    every window, also when the void value is a class index (K = 19)."""
    rng = np.random.default_rng(num_classes)
    step = GenerateImageLabels(num_classes=num_classes)
    for _ in range(200):
        # background and void, then classes of 3..9 px (1 % = 5.76 px)
        raw = np.where(rng.random((24, 24)) < rng.random(), 19,
                       0).astype(np.uint8)
        for c in rng.choice(np.arange(1, 21), 6, replace=False):
            raw.flat[rng.permutation(576)[:int(rng.integers(3, 10))]] = c
        old = image_labels_from_mask(raw, num_classes, 0.01, (0, 255, 19))
        new = step(dict(gt_seg_map=remap_void(raw, 19)))['gt_cls_label']
        np.testing.assert_array_equal(new, old)


def test_without_pixel_labels_passes_unchanged_and_repr():
    step = TRANSFORMS.build(
        dict(type='GenerateImageLabels', num_classes=17, min_fraction=0.02))
    res = dict(img=np.zeros((2, 13, 4, 4), np.float32))
    assert step(dict(res)).keys() == res.keys()
    assert repr(step) == ('GenerateImageLabels(num_classes=17, '
                          'min_fraction=0.02, ignore_values=(0, 255))')
    with pytest.raises(ValueError, match='num_classes must be >= 1'):
        GenerateImageLabels(num_classes=0)
    with pytest.raises(ValueError, match=r'min_fraction must lie in \[0, 1\)'):
        GenerateImageLabels(num_classes=3, min_fraction=1.5)


def test_class_tables_live_on_the_dataset_classes():
    assert SITSSegDataset.METAINFO == {}
    for cls in (PASTISDataset, PASTIS24Dataset):
        meta = cls.METAINFO
        assert meta['classes'] == PASTIS_CLASSES
        assert len(meta['palette']) == 19
        assert meta['bands'] == S2_BANDS and meta['void_label'] == 19
    meta = MTLCCDataset.METAINFO
    assert len(meta['classes']) == len(meta['palette']) == 18
    assert meta['bands'] == MTLCC_BANDS and 'void_label' not in meta


def test_the_dataset_gives_its_void_label(fake_pastis24):
    """PASTIS24's void 19 reaches LoadSITSSample through the data infos;
    the same samples with an explicit void label are identical."""
    ds = PASTIS24Dataset(data_root=fake_pastis24, folds=(1, ),
                         pipeline=sits_pipeline(12))
    assert ds.metainfo['bands'] == S2_BANDS
    explicit = sits_pipeline(12)
    explicit[0] = dict(type='LoadSITSSample', void_label=19)
    explicit = Compose(explicit)
    voids = 0
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        assert info['void_label'] == 19
        sample = ds[i]['data_samples']
        ref = explicit(dict(info, void_label=None))['data_samples']
        seg = sample.gt_sem_seg.data
        assert (seg == ref.gt_sem_seg.data).all()
        assert (sample.gt_cls_label == ref.gt_cls_label).all()
        assert not (seg == 19).any()
        voids += int((seg == 255).sum())
    assert voids > 0  # the fake data has void pixels


def test_a_dataset_without_void(tmp_path):
    from mmexact.testing import make_fake_mtlcc
    root = make_fake_mtlcc(str(tmp_path), num_tiles=1, padded_len=20,
                           season='data16')
    ds = MTLCCDataset(data_root=root, data_prefix=dict(
        img_path='datasets/full/240/data16'))
    assert ds.get_data_info(0)['void_label'] is None
    assert ds.metainfo['bands'] == MTLCC_BANDS
