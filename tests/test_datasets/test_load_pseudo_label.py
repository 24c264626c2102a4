# Copyright (c) mmexact contributors. All rights reserved.
"""LoadPseudoLabel: pseudo labels come from a transform, not the dataset."""
import glob
import importlib.util
import os.path as osp

import numpy as np
import pytest
from mmengine.config import Config
from PIL import Image

from mmexact.datasets import PASTIS24Dataset
from mmexact.datasets.transforms import LoadPseudoLabel
from mmexact.structures import SITSDataError
from mmexact.testing import sits_pipeline
from mmexact.utils import pseudo_label_options

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _generate_pseudo_labels():
    path = osp.join(REPO, 'tools', 'exact', 'generate_pseudo_labels.py')
    spec = importlib.util.spec_from_file_location('_gpl', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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


STAGE2 = sorted(glob.glob(osp.join(REPO, 'configs', 'exact',
                                   'exact-stage2_*.py')))


@pytest.mark.parametrize('path', STAGE2, ids=osp.basename)
def test_stage2_configs_read_pseudo_labels_in_their_pipeline(path):
    cfg = Config.fromfile(path)
    base = Config.fromfile(osp.join(
        REPO, 'configs', 'tsvit',
        osp.basename(path).replace('exact-stage2_tsvit', 'tsvit')))
    pipe = cfg.train_dataloader.dataset.pipeline
    idx = [i for i, t in enumerate(pipe) if t.type == 'LoadPseudoLabel']
    assert len(idx) == 1
    assert pipe[idx[0]].pseudo_label_dir == cfg.pseudo_label_dir
    # otherwise the supervised network's pipeline, unchanged
    assert [t for t in pipe if t.type != 'LoadPseudoLabel'] == \
        base.train_dataloader.dataset.pipeline
    assert 'pseudo_label_dir' not in cfg.train_dataloader.dataset
    # after loading, before any spatial augmentation and packing
    before = [t.type for t in pipe[:idx[0]]]
    assert before[0] == 'LoadSITSSample'
    assert not {'SITSRandomFlip', 'SITSRandomRot90',
                'PackSITSInputs'} & set(before)
    # validation and test keep the ground truth
    for key in ('val_dataloader', 'test_dataloader'):
        assert cfg[key] == base[key]
    opts = pseudo_label_options(cfg, '/p')
    assert opts == [
        f'train_dataloader.dataset.pipeline.{idx[0]}.pseudo_label_dir=/p']
    text = open(path).read()  # the command in the header uses that index
    if '--cfg-options' in text:
        assert opts[0].replace('/p', 'DIR') in text
    tool = _generate_pseudo_labels()
    args = tool.parse_args([path, 'ckpt.pth', '--out-dir', 'o', '--split',
                            'train'])
    with pytest.raises(SystemExit, match='pipeline reads pseudo labels'):
        tool.sweep_config(cfg, args, [0.3])


def test_pseudo_label_options_need_the_transform():
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'tsvit',
                                   'tsvit_1xb16-8e_demo-24x24.py'))
    with pytest.raises(ValueError, match='has no LoadPseudoLabel step'):
        pseudo_label_options(cfg, '/p')
