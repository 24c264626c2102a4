# Copyright (c) mmexact contributors. All rights reserved.
"""``configs/*/metafile.yaml`` and ``configs/*/README.md`` (mmseg's layout).

Every config folder except ``_base_`` has both files; every metafile
parses, in plain YAML and as the model index that OpenMMLab's tooling
(``modelindex``, installed with mmpretrain) reads; every config of a folder
has exactly one ``Models`` entry there, named after the file, and every
entry's config exists; names are unique across folders; every result says
where it comes from; the metadata (batch, GPUs, data, schedule, crop,
parameters) agree with the configs they describe; the README lists every
config and repeats the metafile's figures.
"""
import glob
import json
import os
import os.path as osp
import re
from collections import Counter
from typing import Dict, List

import pytest
import yaml
from mmengine.config import Config

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = osp.join(REPO, 'configs')
FOLDERS = sorted(
    d for d in os.listdir(CONFIGS) if osp.isdir(osp.join(CONFIGS, d))
    and d != '_base_' and not d.startswith(('.', '__')))
SOURCES = ('published: ', 'measured here: ', 'pending: ')


def _metafile(folder: str) -> Dict:
    with open(osp.join(CONFIGS, folder, 'metafile.yaml'), encoding='utf-8') \
            as f:
        return yaml.safe_load(f)


def _readme(folder: str) -> str:
    with open(osp.join(CONFIGS, folder, 'README.md'), encoding='utf-8') as f:
        return f.read()


def _config_files(folder: str) -> List[str]:
    return sorted(
        osp.relpath(p, REPO)
        for p in glob.glob(osp.join(CONFIGS, folder, '*.py')))


def _models() -> List[Dict]:
    return [dict(m, _folder=folder) for folder in FOLDERS
            for m in _metafile(folder)['Models']]


def test_config_folders_found():
    # the folders of the shipped methods (the test covers any new one too)
    assert {'exact', 'cam', 'tsvit', 'utae', 'unet3d', 'unet_convlstm',
            'fpn_convlstm', 'biconvgru'} <= set(FOLDERS)


@pytest.mark.parametrize('folder', FOLDERS)
def test_folder_has_readme_and_metafile(folder):
    for name in ('README.md', 'metafile.yaml'):
        path = osp.join(CONFIGS, folder, name)
        assert osp.isfile(path), f'{path} is missing'
    assert '## Results and models' in _readme(folder)


@pytest.mark.parametrize('folder', FOLDERS)
def test_metafile_structure(folder):
    meta = _metafile(folder)
    assert set(meta) == {'Collections', 'Models'}
    names = []
    for coll in meta['Collections']:
        names.append(coll['Name'])
        assert coll['README'] == f'configs/{folder}/README.md'
        assert coll['Paper']['Title'] and \
            coll['Paper']['URL'].startswith('https://')
        assert osp.isfile(osp.join(REPO, coll['Code'])), coll['Code']
        assert coll['Metadata']['Training Data']
    assert meta['Models']
    for model in meta['Models']:
        assert model['In Collection'] in names, model['Name']
        assert set(model['Paper']) == {'Title', 'URL'}, model['Name']
        assert osp.isfile(osp.join(REPO, model['Code'])), model['Code']
        assert model['Framework'] == 'PyTorch'
        assert set(model['Metadata']) >= {
            'Training Data', 'Batch Size', 'Architecture',
            'Training Resources', 'Parameters'}, model['Name']


@pytest.mark.parametrize('folder', FOLDERS)
def test_one_entry_per_config(folder):
    meta = _metafile(folder)
    listed = Counter(m['Config'] for m in meta['Models'])
    files = _config_files(folder)
    assert [c for c, n in listed.items() if n > 1] == []
    missing = [c for c in listed if not osp.isfile(osp.join(REPO, c))]
    assert missing == [], f'entries of absent configs: {missing}'
    assert sorted(listed) == files  # every config of the folder, only them
    for model in meta['Models']:  # mmseg's convention: name = file stem
        assert model['Config'] == f"configs/{folder}/{model['Name']}.py"


def test_names_unique_across_folders():
    names = Counter(m['Name'] for m in _models())
    assert [n for n, k in names.items() if k > 1] == []
    collections = Counter(c['Name'] for f in FOLDERS
                          for c in _metafile(f)['Collections'])
    assert [n for n, k in collections.items() if k > 1] == []


def test_results_name_their_source():
    for model in _models():
        for res in model['Results']:
            assert set(res) == {'Task', 'Dataset', 'Metrics', 'Source'}, \
                model['Name']
            src, values = res['Source'], list(res['Metrics'].values())
            assert src.startswith(SOURCES), (model['Name'], src)
            assert values, model['Name']
            if src.startswith('pending: '):  # to be filled in
                assert all(v is None for v in values), model['Name']
                continue
            assert all(isinstance(v, (int, float)) and 0 < v <= 100
                       for v in values), (model['Name'], values)
            if src.startswith('published: '):
                assert 'not reproduced here' in src, model['Name']


def test_published_figures():
    """The quoted figures, against their sources (TSViT paper, PASTIS fold 1
    and Germany; U-TAE README; the official Exact log)."""
    got = {(m['Name'], r['Dataset']): r['Metrics']
           for m in _models() for r in m['Results']
           if r['Source'].startswith('published: ')}
    expected = {
        'tsvit_1xb48-100e_pastis24-24x24': (83.4, 65.1),
        'utae_1xb48-100e_pastis24-24x24': (82.9, 62.4),
        'unet-convlstm_1xb48-100e_pastis24-24x24': (82.7, 60.7),
        'unet3d_1xb48-100e_pastis24-24x24': (82.3, 60.4),
        'fpn-convlstm_1xb48-100e_pastis24-24x24': (81.9, 59.5),
        'biconvgru_1xb48-100e_pastis24-24x24': (80.5, 56.2),
        'utae_1xb4-100e_pastis-128x128': (83.2, 63.1),
        'unet3d_1xb4-100e_pastis-128x128': (81.3, 58.4),
        'unet-convlstm_1xb4-100e_pastis-128x128': (82.1, 57.8),
        'fpn-convlstm_1xb4-100e_pastis-128x128': (81.6, 57.1),
        'tsvit_1xb48-100e_germany-24x24': (95.0, 84.8),
        'exact_tsvit_8xb6-20e_pastis24-24x24': (84.56, 75.77),
    }
    by_name = {name: metrics for (name, _), metrics in got.items()}
    for name, (oa, miou) in expected.items():
        assert by_name[name] == {'mIoU': miou, 'aAcc': oa}, name


def test_demo_figures():
    """`make demo`'s table (main README) in the demo configs' entries."""
    got = {m['Name']: r['Metrics'] for m in _models() for r in m['Results']
           if r['Source'].startswith('measured here: ')}
    expected = {  # CB-CAM mIoU / pseudo-label OA, vanilla CAM, stage 2, full
        # the pseudo labels at the OA-selected theta (one selection, both
        # figures: the README's 'pseudo-label mIoU / OA' row)
        'exact_tsvit_1xb16-8e_demo-24x24': {'mIoU': 20.7, 'aAcc': 54.3},
        'cam_tsvit_1xb16-8e_demo-24x24': {'mIoU': 16.2},
        'exact-stage2_tsvit_1xb16-8e_demo-24x24': {'mIoU': 12.8},
        'tsvit_1xb16-8e_demo-24x24': {'mIoU': 30.0},
    }
    for name, metrics in expected.items():  # other rows may be added
        assert got.get(name) == metrics, name


def _training_data(cfg: Config) -> str:
    ds = cfg.train_dataloader.dataset
    if ds.type == 'PASTIS24Dataset':
        return 'PASTIS24'
    if ds.type == 'MTLCCDataset':
        return 'Germany (MTLCC)'
    if ds.type == 'SITSRegionDataset':  # demo-region configs: the demo's
        return 'own region (synthetic demo)' if 'demo' in cfg.filename \
            else 'own region'
    assert ds.type == 'PASTISDataset', ds.type
    return 'synthetic PASTIS (demo)' if 'demo' in ds.data_root else 'PASTIS'


def _crop(cfg: Config) -> str:
    window = cfg.train_dataloader.dataset.get('window_size', 24)
    return '128x128' if window is None else f'{window}x{window}'


def test_metadata_matches_configs():
    for model in _models():
        meta = model['Metadata']
        cfg = Config.fromfile(osp.join(REPO, model['Config']))
        gpus = int(re.match(r'(\d+)x ', meta['Training Resources']).group(1))
        batch = cfg.train_dataloader.batch_size
        assert meta['Batch Size'] == gpus * batch, model['Name']
        layout = re.search(r'_(\d+)xb(\d+)-', model['Name'])
        if layout:  # {N}xb{B} in the name: N GPUs x B samples
            assert (gpus, batch) == tuple(map(int, layout.groups())), \
                model['Name']
        assert meta['Training Data'] == _training_data(cfg), model['Name']
        assert meta['Schedule'] == f'{cfg.train_cfg.max_epochs} epochs'
        assert meta['Crop Size'].startswith(_crop(cfg)), model['Name']
        heads = {cfg.model.backbone.type, cfg.model.decode_head.type}
        assert heads <= set(meta['Architecture']), model['Name']


@pytest.mark.slow
def test_parameter_counts_match_models():
    from mmseg.registry import MODELS
    counts = {}
    for model in _models():
        cfg = Config.fromfile(osp.join(REPO, model['Config']))
        key = json.dumps(cfg.model.to_dict(), sort_keys=True, default=str)
        if key not in counts:
            net = MODELS.build(cfg.model)
            counts[key] = sum(p.numel() for p in net.parameters())
        assert model['Metadata']['Parameters'] == counts[key], model['Name']


@pytest.mark.parametrize('folder', FOLDERS)
def test_model_index_check(folder, monkeypatch):
    """OpenMMLab's model-index reader accepts the file without errors."""
    from modelindex.models.ModelIndex import ModelIndex
    monkeypatch.chdir(REPO)  # README paths are relative to the repository
    index = ModelIndex.from_dict(_metafile(folder))
    assert index.check(silent=True) == []
    assert [m.name for m in index.models] == \
        [m['Name'] for m in _metafile(folder)['Models']]


@pytest.mark.parametrize('folder', FOLDERS)
def test_readme_lists_configs_and_figures(folder):
    text = _readme(folder)
    for model in _metafile(folder)['Models']:
        rows = [line for line in text.splitlines()
                if f"(./{model['Name']}.py)" in line]
        assert rows, f"{model['Name']} is not in {folder}/README.md"
        cells = set()
        for row in rows:
            for cell in row.split('|'):
                try:
                    cells.add(float(cell))
                except ValueError:
                    pass
        for res in model['Results']:
            for value in res['Metrics'].values():
                assert value is None or value in cells, (model['Name'], value)
