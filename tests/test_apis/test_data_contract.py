# Copyright (c) mmexact contributors. All rights reserved.
"""The data contract of a checkpoint (bands, normalisation statistics,
max_seq_len, window, training dates): extracted at training, applied at
inference, so a model maps with the config it was trained from."""
import datetime
import json
import os
import os.path as osp
import sys

import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmexact.apis import SITSInferencer, inference_sits, init_model
from mmexact.apis import inference as inference_module
from mmexact.apis import sits_inferencer as inferencer_module
from mmexact.structures import S2_BANDS, SITSDataError
from mmexact.testing import TINY_BACKBONE, sits_pipeline
from mmexact.testing.geotiff import write_series
from mmexact.utils import data_contract as dc
from mmexact.utils import (apply_data_contract, doy_outside_training,
                           ensure_data_contract_hook, extract_data_contract,
                           read_data_contract)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
RAW = osp.join(REPO, 'configs', 'tsvit', 'tsvit_1xb48-100e_pastis-24x24.py')
PASTIS24 = osp.join(REPO, 'configs', 'tsvit',
                    'tsvit_1xb48-100e_pastis24-24x24.py')
SHUFFLED = ['B8', 'B2', 'B3', 'B4', 'B5', 'B6', 'B7', 'B8A', 'B11', 'B12']
# statistics of no real dataset (exact in float32)
MEAN = [1000. + 8 * i for i in range(10)]
STD = [500. + 4 * i for i in range(10)]


def _stats_file(path, mean=MEAN, std=STD) -> str:
    """A NORM_S2_patch.json whose Fold_1 and Fold_2 average to mean/std."""
    stats = {'Fold_1': dict(mean=[m - 2 for m in mean],
                            std=[s - 1 for s in std]),
             'Fold_2': dict(mean=[m + 2 for m in mean],
                            std=[s + 1 for s in std])}
    with open(path, 'w') as f:
        json.dump(stats, f)
    return str(path)


def _pipeline(norm: dict, max_seq_len: int = 12, **pad) -> list:
    pipe = sits_pipeline(max_seq_len)
    pipe[1] = norm
    pipe[2].update(pad)
    return pipe


def _config_text(base: str, data_root: str, norm_file: str,
                 hooks: bool = False) -> str:
    """A tiny raw-PASTIS TSViT config reading ``norm_file``; its own
    custom_hooks lack DataContractHook (tools/train.py adds it)."""
    pipe = _pipeline(dict(type='NormalizeSITS', norm_file=norm_file,
                          folds=(1, 2)))
    return (
        f'_base_ = [{base!r}]\n'
        f'model = dict(backbone={TINY_BACKBONE!r}, '
        'decode_head=dict(in_channels=16))\n'
        f'pipeline = {pipe!r}\n'
        'loader = dict(batch_size=2, num_workers=0, '
        'persistent_workers=False)\n'
        'train_dataloader = dict(**loader, dataset=dict('
        f'data_root={data_root!r}, pipeline=pipeline))\n'
        'val_dataloader = dict(**loader, dataset=dict('
        f'data_root={data_root!r}, pipeline=pipeline))\n'
        'test_dataloader = val_dataloader\n'
        "train_cfg = dict(_delete_=True, type='IterBasedEpochTrainLoop', "
        'max_iters=2, val_interval=1000)\n'
        'default_hooks = dict(logger=dict(interval=1), '
        'checkpoint=dict(interval=2, save_best=None))\n'
        "custom_hooks = [dict(type='NonFiniteLossHook'), "
        "dict(type='SITSTrainStepHook', check_schedule=False)]\n")


def _doy_of_train_folds(root: str) -> list:
    """Min / max day of year of the folds 1-3 dates, read by hand."""
    with open(osp.join(root, 'metadata.geojson')) as f:
        feats = json.load(f)['features']
    doys = []
    for feat in feats:
        prop = feat['properties']
        if prop['Fold'] in (1, 2, 3):
            dates = prop['dates-S2']
            if isinstance(dates, str):
                dates = json.loads(dates.replace("'", '"'))
            for d in (dates.values() if isinstance(dates, dict) else dates):
                d = str(d)
                doys.append(datetime.date(int(d[:4]), int(d[4:6]),
                                          int(d[6:])).timetuple().tm_yday)
    return [min(doys), max(doys)]


class _Log:
    """Records print_log calls of a module."""

    def __init__(self, monkeypatch, *modules):
        self.messages = []
        for mod in modules:
            monkeypatch.setattr(mod, 'print_log', self)

    def __call__(self, msg, logger=None, level=None):
        self.messages.append((level, msg))

    def text(self, level=None):
        return '\n'.join(m for lv, m in self.messages
                         if level is None or lv == level)


def _contract_checkpoint(tmp_path, cfg, contract=None, dataset_meta=None
                         ) -> str:
    torch.manual_seed(0)
    model = init_model(cfg)
    meta = {}
    if contract is not None:
        meta['data_contract'] = contract
    if dataset_meta is not None:
        meta['dataset_meta'] = dataset_meta
    path = str(tmp_path / 'model.pth')
    torch.save(dict(state_dict=model.state_dict(), meta=meta), path)
    return path


def _tiny_cfg(pipeline=None) -> Config:
    cfg = Config.fromfile(PASTIS24)
    cfg.merge_from_dict(dict(model=dict(backbone=dict(TINY_BACKBONE),
                                        decode_head=dict(in_channels=16))))
    cfg.test_dataloader.dataset.pipeline = pipeline or sits_pipeline(6)
    return cfg


def _contract(**changes) -> dict:
    out = dict(version=1, bands=list(S2_BANDS),
               normalization=dict(mean=MEAN, std=STD, norm_file='gone.json',
                                  folds=[1, 2]),
               max_seq_len=6, sequence=dict(pad='end', pad_value=0.,
                                            pad_doy=0, cut='first'),
               window=[24, 24], doy_range=[100, 200])
    out.update(changes)
    return out


# ----------------------------------------------------------------------
def test_contract_from_a_config_and_its_dataset(tmp_path, fake_pastis):
    """Config only: bands of the dataset class, statistics read from the
    norm file (the average of folds 1 and 2, as numbers), the padding
    rule, the window; the built dataset adds the training dates."""
    stats = _stats_file(tmp_path / 'MY_STATS.json')
    cfg = Config.fromfile(RAW)
    pipe = _pipeline(dict(type='NormalizeSITS', norm_file=stats,
                          folds=(1, 2)), 12, random_subsample=True)
    cfg.merge_from_dict(dict(model=dict(backbone=dict(TINY_BACKBONE)),
                             train_dataloader=dict(dataset=dict(
                                 data_root=fake_pastis, pipeline=pipe))))
    expected = dict(
        version=1,
        bands=['B2', 'B3', 'B4', 'B5', 'B6', 'B7', 'B8', 'B8A', 'B11',
               'B12'],
        normalization=dict(mean=MEAN, std=STD, norm_file=stats,
                           folds=[1, 2]),
        max_seq_len=12,
        sequence=dict(pad='end', pad_value=0., pad_doy=0, cut='random'),
        window=[24, 24],
        doy_range=None)
    assert extract_data_contract(cfg) == expected
    # the contract is plain data (the restricted checkpoint loader)
    assert json.loads(json.dumps(expected)) == expected

    from mmseg.registry import DATASETS
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    built = extract_data_contract(cfg, dataset)
    assert built == dict(expected, doy_range=_doy_of_train_folds(fake_pastis))
    assert 1 <= built['doy_range'][0] < built['doy_range'][1] <= 366
    # a config band list is what inference would use, so it is recorded
    cfg.bands = SHUFFLED
    assert extract_data_contract(cfg)['bands'] == SHUFFLED


class _Infos:
    """A dataset's data infos only."""

    def __init__(self, infos):
        self.infos = infos

    def __len__(self):
        return len(self.infos)

    def get_data_info(self, i):
        return self.infos[i]


def test_training_dates_from_the_data_infos():
    """PASTIS-style YYYYMMDD dates (int or str) of every patch, once per
    patch; day-of-year lists with padding 0; none without dates."""
    infos = [dict(img_path='a', dates=[20190301, '20190615']),  # 60, 166
             dict(img_path='b', dates=['2018-12-31', 20190110]),  # 365, 10
             dict(img_path='a', dates=[20190301, '20190615'])]
    assert dc._doy_range(_Infos(infos)) == [10, 365]
    assert dc._doy_range(_Infos(infos[:1])) == [60, 166]
    assert dc._doy_range(_Infos([dict(doy=[0, 40, 200, 0])])) == [40, 200]
    assert dc._doy_range(_Infos([dict(img_path='x.pickle')])) is None
    assert dc._doy_range(_Infos([dict(dates=['spring'])])) is None


def test_read_contract_checks_it():
    assert read_data_contract(dict(meta=dict(dataset_meta={}))) is None
    assert read_data_contract(dict(meta=dict(
        data_contract=_contract())))['max_seq_len'] == 6
    with pytest.raises(ValueError, match='x.pth: data contract version 9 '
                       'is newer'):
        read_data_contract(dict(meta=dict(data_contract=dict(version=9))),
                           'x.pth')
    with pytest.raises(ValueError, match='x.pth: data contract has 9 bands'
                       ' but 10 normalisation values'):
        read_data_contract(dict(meta=dict(data_contract=_contract(
            bands=list(S2_BANDS[:9])))), 'x.pth')


def test_apply_contract_replaces_statistics_and_length(tmp_path,
                                                       monkeypatch):
    """A missing norm file is no error; an existing one with other values
    gives a warning naming it; max_seq_len follows the contract."""
    log = _Log(monkeypatch, dc)
    other = _stats_file(tmp_path / 'other.json', [m + 1 for m in MEAN])
    for norm_file, level in (('nowhere/NORM.json', dc.INFO),
                             (other, dc.WARNING)):
        log.messages.clear()
        pipe = _pipeline(dict(type='NormalizeSITS', norm_file=norm_file,
                              folds=(1, 2)), 30)
        cfg = Config(dict(test_dataloader=dict(dataset=dict(pipeline=pipe)),
                          test_pipeline=pipe))
        apply_data_contract(cfg, _contract(), 'm.pth')
        for p in (cfg.test_dataloader.dataset.pipeline, cfg.test_pipeline):
            assert p[1] == dict(type='NormalizeSITS', mean=MEAN, std=STD)
            assert p[2]['max_seq_len'] == 6
        text = log.text(level)
        assert text.startswith('m.pth: ') and norm_file in text
        assert 'gone.json' in text  # where the statistics came from
        # one message per finding, not one per pipeline
        assert len(log.messages) == 2, log.messages
    # the same statistics in the config: nothing to say about them
    log.messages.clear()
    same = _stats_file(tmp_path / 'same.json')
    cfg = Config(dict(test_pipeline=_pipeline(dict(
        type='NormalizeSITS', norm_file=same, folds=(1, 2)), 6)))
    apply_data_contract(cfg, _contract(), 'm.pth')
    assert log.messages == []


def test_bands_come_from_the_contract_first(tmp_path):
    """The contract's order wins over the dataset metainfo; a config band
    list that disagrees is refused, one that agrees is fine."""
    cfg = _tiny_cfg()
    ckpt = _contract_checkpoint(tmp_path, cfg, _contract(bands=SHUFFLED),
                                dict(bands=tuple(S2_BANDS)))
    model = init_model(cfg, ckpt)
    inf = SITSInferencer(model)
    assert inf.bands == tuple(SHUFFLED)
    assert inf.bands_source.startswith("the checkpoint's data contract")
    assert inf.transforms[0].mean.tolist() == MEAN
    cfg.bands = list(S2_BANDS)
    with pytest.raises(ValueError, match=r"config bands \['B2', .*\] "
                       r"disagree with the bands of the checkpoint's data "
                       r"contract \['B8', 'B2'"):
        SITSInferencer(init_model(cfg, ckpt))
    cfg.bands = ['B08'] + SHUFFLED[1:]  # same names, other spelling
    assert SITSInferencer(init_model(cfg, ckpt)).bands == tuple(SHUFFLED)


def test_scene_without_a_contract_band_is_refused(tmp_path):
    """A GeoTIFF series lacking B8A: the refusal names the contract's
    band list, in the contract's order."""
    cfg = _tiny_cfg()
    model = init_model(cfg, _contract_checkpoint(
        tmp_path, cfg, _contract(bands=SHUFFLED)))
    rng = np.random.default_rng(0)
    img = rng.integers(1, 6000, (3, 9, 24, 24)).astype(np.int16)
    dates = [datetime.date(2019, m, 5) for m in (5, 6, 7)]
    names = [b for b in S2_BANDS if b != 'B8A']
    write_series(str(tmp_path / 's2'), img, dates, descriptions=names,
                 nodata=-10000)
    with pytest.raises(SITSDataError) as err:
        inference_sits(model, str(tmp_path / 's2'))
    msg = str(err.value)
    assert 'missing band(s) B8A' in msg
    assert 'the model needs B8, B2, B3, B4, B5, B6, B7, B8A, B11, B12' in msg
    assert ("[model bands: the checkpoint's data contract: B8, B2, B3, B4, "
            'B5, B6, B7, B8A, B11, B12]') in msg


def test_dates_outside_the_training_dates_warn_once(monkeypatch):
    assert doy_outside_training([90, 150, 230], _contract()) is None
    assert doy_outside_training([10, 300], _contract(doy_range=None)) is None
    msg = doy_outside_training([10, 120, 220, 240], _contract(), 'tile')
    assert msg == ('tile: 2 of 4 dates (day of year 10, 240) lie more than '
                   '30 days outside the training dates (day of year '
                   '100..200); the model has not seen that part of the '
                   'season')
    log = _Log(monkeypatch, inferencer_module)
    cfg = _tiny_cfg()
    model = init_model(cfg)
    model.data_contract = _contract()
    img = np.random.default_rng(0).integers(0, 6000, (4, 10, 40, 40))
    inference_sits(model, img.astype(np.float32), [10, 120, 220, 240])
    assert log.messages == [(inferencer_module.WARNING,
                             msg.replace('tile', 'array'))]


def test_checkpoint_without_contract_keeps_the_old_behaviour(tmp_path,
                                                             monkeypatch):
    """The config's statistics and bands, logged once."""
    log = _Log(monkeypatch, inference_module)
    cfg = _tiny_cfg(_pipeline(dict(type='NormalizeSITS', mean=MEAN,
                                   std=STD), 6))
    ckpt = _contract_checkpoint(tmp_path, cfg)
    model = init_model(cfg, ckpt)
    assert model.data_contract is None
    inf = SITSInferencer(model)
    assert inf.bands == tuple(S2_BANDS)
    assert inf.bands_source.startswith('dataset_meta bands')
    assert inf.transforms[0].mean.tolist() == MEAN
    assert inf.max_seq_len == 6
    assert [m for _, m in log.messages] == [
        f'{ckpt}: no data contract (saved without DataContractHook); the '
        "config's data settings (bands, normalisation, max_seq_len) are "
        'used']
    # and a missing norm file still fails as before, naming it
    cfg = _tiny_cfg(_pipeline(dict(type='NormalizeSITS',
                                   norm_file='nowhere/N.json'), 6))
    with pytest.raises(ValueError, match='nowhere/N.json: cannot read '
                       'normalisation file'):
        SITSInferencer(init_model(cfg, ckpt))


def test_train_tool_adds_the_hook_once():
    cfg = Config(dict(custom_hooks=[dict(type='RNGStateHook')]))
    assert ensure_data_contract_hook(cfg)
    assert not ensure_data_contract_hook(cfg)
    assert [h['type'] for h in cfg.custom_hooks] == [
        'RNGStateHook', 'DataContractHook']
    base = Config.fromfile(osp.join(REPO, 'configs', '_base_',
                                    'default_runtime.py'))
    assert dict(type='DataContractHook') in base.custom_hooks


@pytest.mark.e2e
def test_round_trip_without_the_norm_file(tmp_path, fake_pastis):
    """Train 2 iterations through tools/train.py with statistics from a
    file (the config's own custom_hooks lack the hook), delete the file,
    map a synthetic scene with the same config and the checkpoint: the
    statistics are the deleted file's, the map is the one the file
    itself gives (a contract-less copy of the checkpoint, file back)."""
    sys.path.insert(0, osp.join(REPO, 'tools'))
    import train
    from mmexact.testing.synthetic_scene import write_synthetic_scene
    stats = _stats_file(tmp_path / 'MY_STATS.json')
    cfg_path = tmp_path / 'tiny_raw.py'
    cfg_path.write_text(_config_text(RAW, fake_pastis, stats))
    work = tmp_path / 'work'
    train.main([str(cfg_path), '--work-dir', str(work)])
    ckpt = str(work / 'iter_2.pth')
    raw = torch.load(ckpt, map_location='cpu', weights_only=False)
    contract = raw['meta']['data_contract']
    assert contract['normalization']['mean'] == MEAN
    assert contract['bands'] == list(S2_BANDS)
    assert contract['max_seq_len'] == 12 and contract['window'] == [24, 24]
    assert contract['doy_range'] == _doy_of_train_folds(fake_pastis)
    os.remove(stats)

    scene = write_synthetic_scene(str(tmp_path / 'scene'), size=32, seed=3,
                                  seq_len=(8, 10), parcels_crs=None)
    model = init_model(str(cfg_path), ckpt)
    inf = SITSInferencer(model)
    norm = [t for t in inf.transforms if type(t).__name__ ==
            'NormalizeSITS'][0]
    assert norm.mean.tolist() == MEAN and norm.std.tolist() == STD
    assert inf.max_seq_len == 12 and inf.window == (24, 24)
    out = inference_sits(model, scene['image_dir'])
    assert out['pred'].shape == (32, 32) and out['valid'].any()

    # reference: the checkpoint without its contract, the file back
    del raw['meta']['data_contract']
    old = str(tmp_path / 'old.pth')
    torch.save(raw, old)
    _stats_file(stats)
    ref = inference_sits(init_model(str(cfg_path), old), scene['image_dir'])
    assert np.array_equal(out['seg_logits'], ref['seg_logits'])
