# Copyright (c) mmexact contributors. All rights reserved.
"""Every config builds: model, pipelines and datasets (on fake data)."""
import glob
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.dataset import Compose

from mmseg.registry import DATASETS, MODELS

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = sorted(
    p for p in glob.glob(osp.join(REPO, 'configs', '**', '*.py'),
                         recursive=True) if '_base_' not in p)


def test_there_are_configs():
    names = {osp.relpath(p, osp.join(REPO, 'configs')) for p in CONFIGS}
    assert {'tsvit/tsvit_1xb48-100e_pastis24-24x24.py',
            'tsvit/tsvit-fcn_1xb48-100e_pastis24-24x24.py',
            'tsvit/tsvit_1xb48-100e_pastis-24x24.py',
            'exact/exact_tsvit_pastis.py',
            'exact/exact_tsvit_1xb48-20e_pastis24-24x24.py',
            'exact/exact_tsvit_8xb6-20e_pastis24-24x24.py',
            'cam/cam_tsvit_1xb48-20e_pastis24-24x24.py'} <= names


@pytest.fixture(scope='module')
def fake_mtlcc(tmp_path_factory) -> str:
    from mmexact.testing import make_fake_mtlcc
    root = str(tmp_path_factory.mktemp('mtlcc'))
    return make_fake_mtlcc(root, num_tiles=3, padded_len=20, season='data16')


@pytest.fixture(scope='module')
def fake_region(tmp_path_factory) -> str:
    from mmexact.testing.fake_region import make_fake_region
    return make_fake_region(str(tmp_path_factory.mktemp('region')))


@pytest.mark.parametrize('path', CONFIGS,
                         ids=[osp.relpath(p, REPO) for p in CONFIGS])
@pytest.mark.slow
def test_config_builds(path, fake_pastis24, fake_mtlcc, fake_region):
    cfg = Config.fromfile(path)
    exact = cfg.model.get('decode_head', {}).get('type') == 'CBCAMHead'
    assert cfg.custom_imports['imports'] == ['mmexact'] + (
        ['mmexact.exact'] if exact else [])
    model = MODELS.build(cfg.model)
    assert hasattr(model, 'data_preprocessor')
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        ds_cfg = cfg[key]['dataset'].copy()
        Compose(ds_cfg['pipeline'])
        if ds_cfg['type'] == 'PASTIS24Dataset':
            ds_cfg['data_root'] = fake_pastis24
        elif ds_cfg['type'] == 'MTLCCDataset':
            ds_cfg['data_root'] = fake_mtlcc
        elif ds_cfg['type'] == 'SITSRegionDataset':
            ds_cfg['data_root'] = fake_region  # norm_file: its norm.json
        else:
            ds_cfg['data_root'] = osp.join(fake_pastis24, 'raw')
        for step in ds_cfg['pipeline']:  # statistics file of the fake data
            if step.get('norm_file') and ds_cfg['type'] != \
                    'SITSRegionDataset':
                step['norm_file'] = osp.join(fake_pastis24, 'raw',
                                             'NORM_S2_patch.json')
        pseudo = [s for s in ds_cfg['pipeline']
                  if s.get('type') == 'LoadPseudoLabel']
        if pseudo:  # stage-2 configs read pseudo labels (tested e2e)
            assert key == 'train_dataloader'
            ds_cfg['pipeline'] = [s for s in ds_cfg['pipeline']
                                  if s.get('type') != 'LoadPseudoLabel']
        dataset = DATASETS.build(ds_cfg)
        assert len(dataset) > 0
        sample = dataset[0]
        assert sample['inputs'].dim() == 4


SPATIAL = {'SITSRandomFlip', 'SITSRandomRot90', 'SITSFlip'}


@pytest.mark.parametrize('path', CONFIGS,
                         ids=[osp.relpath(p, REPO) for p in CONFIGS])
def test_pipelines_state_labels_and_statistics(path):
    """Every pipeline makes the image-level labels of the ground truth
    (GenerateImageLabels after LoadSITSSample, before LoadPseudoLabel, any
    spatial augmentation and packing; one label per foreground class of
    the dataset) and gives its normalisation statistics."""
    cfg = Config.fromfile(path)
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        ds_cfg = cfg[key]['dataset']
        types = [s['type'] for s in ds_cfg['pipeline']]
        assert types.count('LoadSITSSample') == 1, key
        if ds_cfg['type'] == 'SITSRegionDataset':
            # image labels come from the window files; relative statistics
            assert 'GenerateImageLabels' not in types, key
            norm = [s for s in ds_cfg['pipeline']
                    if s['type'] == 'NormalizeSITS']
            assert [s['norm_file'] for s in norm] == ['norm.json'], key
            continue
        assert types.count('GenerateImageLabels') == 1, key
        idx = types.index('GenerateImageLabels')
        assert types.index('LoadSITSSample') < idx, key
        assert not ({'LoadPseudoLabel', 'PackSITSInputs'} | SPATIAL) & set(
            types[:idx]), key
        classes = DATASETS.get(ds_cfg['type']).METAINFO['classes']
        assert ds_cfg['pipeline'][idx]['num_classes'] == len(classes) - 1
        for step in ds_cfg['pipeline']:
            if step['type'] == 'NormalizeSITS':
                assert ('mean' in step) != ('norm_file' in step), key
