# Copyright (c) mmexact contributors. All rights reserved.
"""The band order of a model comes from its config or its dataset metainfo
(saved in its checkpoints), never from its channel count."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from mmexact.apis import SITSInferencer, init_model
from mmexact.apis.sits_inferencer import config_dataset_meta, model_bands
from mmexact.structures import MTLCC_BANDS, S2_BANDS, canonical_band
from mmexact.testing import TINY_BACKBONE, sits_pipeline

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PASTIS24 = 'tsvit/tsvit_1xb48-100e_pastis24-24x24.py'
# a band order of no shipped dataset
SHUFFLED = ('B8', 'B2', 'B3', 'B4', 'B5', 'B6', 'B7', 'B8A', 'B11', 'B12')


def _cfg(path: str = PASTIS24, dataset: bool = True) -> Config:
    """A shipped config with a tiny backbone; ``dataset=False``: every
    dataloader names the generic SITSSegDataset (no metainfo)."""
    cfg = Config.fromfile(osp.join(REPO, 'configs', path))
    cfg.merge_from_dict(dict(model=dict(backbone=dict(TINY_BACKBONE),
                                        decode_head=dict(in_channels=16))))
    if 'germany' not in path:
        cfg.test_dataloader.dataset.pipeline = sits_pipeline(6)
    if not dataset:
        for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
            cfg[key].dataset.type = 'SITSSegDataset'
    return cfg


def _checkpoint(tmp_path, cfg: Config, dataset_meta=None) -> str:
    torch.manual_seed(0)
    model = init_model(cfg)
    path = str(tmp_path / 'model.pth')
    meta = {} if dataset_meta is None else dict(dataset_meta=dataset_meta)
    torch.save(dict(state_dict=model.state_dict(), meta=meta), path)
    return path


def test_pastis_config_gives_s2_bands():
    model = init_model(_cfg())
    assert model.dataset_meta['bands'] == S2_BANDS
    assert model.dataset_meta['void_label'] == 19
    assert model_bands(model, 10) == S2_BANDS
    assert SITSInferencer(model).bands == S2_BANDS


def test_mtlcc_config_gives_mtlcc_bands():
    cfg = _cfg('tsvit/tsvit_1xb48-100e_germany-24x24.py')
    model = init_model(cfg)
    assert model.dataset_meta['bands'] == MTLCC_BANDS
    assert 'void_label' not in model.dataset_meta
    inf = SITSInferencer(model)
    assert inf.bands == tuple(canonical_band(b) for b in MTLCC_BANDS)
    assert inf.in_channels == 13


def test_bands_come_from_the_checkpoint(tmp_path):
    """A config whose dataset knows no bands: the checkpoint's dataset_meta
    (what the Runner saves) gives them; it also wins over the bands of the
    config's dataset class."""
    meta = dict(classes=tuple(f'c{k}' for k in range(19)), bands=SHUFFLED)
    for cfg in (_cfg(dataset=False), _cfg()):
        model = init_model(cfg, _checkpoint(tmp_path, cfg, meta))
        assert model.dataset_meta['bands'] == SHUFFLED
        assert SITSInferencer(model).bands == SHUFFLED
        assert model.dataset_meta['classes'][3] == 'c3'


def test_old_checkpoint_without_bands_uses_the_config_dataset(tmp_path):
    """Checkpoints saved before ``bands`` was in the metainfo: their classes,
    the band order of the config's dataset class."""
    cfg = _cfg()
    ckpt = _checkpoint(tmp_path, cfg, dict(classes=tuple(
        f'c{k}' for k in range(19))))
    model = init_model(cfg, ckpt)
    assert model.dataset_meta['classes'][3] == 'c3'
    assert SITSInferencer(model).bands == S2_BANDS
    assert SITSInferencer(model).classes[3] == 'c3'


def test_config_bands_win(tmp_path):
    cfg = _cfg()
    cfg.bands = list(SHUFFLED)
    model = init_model(cfg, _checkpoint(tmp_path, cfg, dict(bands=S2_BANDS)))
    assert SITSInferencer(model).bands == SHUFFLED


def test_no_bands_anywhere_is_a_clear_error(tmp_path):
    """No guess from the channel count: 10 channels are not PASTIS's."""
    cfg = _cfg(dataset=False)
    assert config_dataset_meta(cfg) == {}
    model = init_model(cfg, _checkpoint(tmp_path, cfg))
    with pytest.raises(ValueError, match=r'SITSEncoderDecoder \(TSViT\) of '
                       r'.*tsvit_1xb48-100e_pastis24-24x24.py: unknown band '
                       r'order .*set bands = \[...\]'):
        SITSInferencer(model)


def test_bands_that_do_not_fit_the_model(tmp_path):
    cfg = _cfg()
    model = init_model(cfg, _checkpoint(tmp_path, cfg,
                                        dict(bands=MTLCC_BANDS)))
    with pytest.raises(ValueError, match=r'dataset_meta bands \[.*\] are not '
                       '10 Sentinel-2 band names'):
        SITSInferencer(model)
    cfg.bands = ['B2', 'nope'] + list(S2_BANDS[2:])
    with pytest.raises(ValueError, match='config bands .* are not 10'):
        SITSInferencer(init_model(cfg))
