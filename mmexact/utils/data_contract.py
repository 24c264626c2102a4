# Copyright (c) mmexact contributors. All rights reserved.
"""The data contract of a checkpoint: what a model needs of its input.

A model only works on data prepared exactly like its training data: the
bands in the same channel order, the same normalisation statistics, at
most as many dates as it was trained with, windows of its training size.
A config names these through file paths (``norm_file``) and dataset
classes, which need not exist where the model is used. The data contract
is the resolved values, stored in every checkpoint by
:class:`mmexact.engine.DataContractHook` as ``meta['data_contract']``
(plain Python numbers, strings and lists, which the restricted checkpoint
loader accepts)::

    dict(version=1,
         bands=['B2', 'B3', ...],            # channel order
         normalization=dict(mean=[...], std=[...],   # per band
                            norm_file='...', folds=[1, 2, 3]),  # origin
         max_seq_len=60,
         sequence=dict(pad='end', pad_value=0., pad_doy=0, cut='first'),
         window=[24, 24],                     # training crop (H, W)
         doy_range=[5, 360])                  # training dates, or None

Class names and palette are not repeated: the Runner saves the training
dataset's metainfo as ``meta['dataset_meta']`` beside it. Any entry may be
None when training did not define it (e.g. ``doy_range`` for datasets
whose dates are only inside the sample files, such as PASTIS24 and
MTLCC: reading every file to find them is not worth a checkpoint).

This module is the pure logic (no Runner): :func:`extract_data_contract`
from a config (and optionally the built training dataset and model),
:func:`apply_data_contract` to a config's test pipeline,
:func:`read_data_contract` from a checkpoint, :func:`doy_outside_training`
for the dates of a scene.
"""
import copy
import datetime
import os.path as osp
import random
from logging import INFO, WARNING
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.config import Config
from mmengine.logging import print_log

from ..structures import canonical_band

__all__ = [
    'DATA_CONTRACT_VERSION', 'DOY_MARGIN', 'extract_data_contract',
    'apply_data_contract', 'read_data_contract', 'doy_outside_training',
    'ensure_data_contract_hook'
]

DATA_CONTRACT_VERSION = 1
# days a scene date may lie outside the training dates before a warning
DOY_MARGIN = 30
_HOOK = 'DataContractHook'


# ----------------------------------------------------------------------
# extraction (training side)
def extract_data_contract(cfg: Config,
                          dataset=None,
                          model: Optional[torch.nn.Module] = None) -> dict:
    """The data contract of a training run.

    Args:
        cfg (Config): The training config (after ``--cfg-options``).
        dataset (optional): The built training dataset
            (``runner.train_dataloader.dataset``, wrappers allowed). When
            given, its metainfo, its built pipeline, its data infos (for
            ``doy_range``) and, as a last resort for ``window``, its first
            sample are used; otherwise the config's ``train_dataloader``.
        model (torch.nn.Module, optional): The built model (unwrapped), for
            the window size; otherwise ``cfg.model``.

    Returns:
        dict: The contract (see the module docstring).

    Raises:
        ValueError: If the normalisation statistics of the training
            pipeline cannot be read (naming the file).
    """
    ds_cfg = _inner_dataset_cfg(cfg.get('train_dataloader', None))
    inner = _inner_dataset(dataset) if dataset is not None else None
    norm, pad = _pipeline_steps(ds_cfg, inner)
    contract = dict(
        version=DATA_CONTRACT_VERSION,
        bands=_train_bands(cfg, ds_cfg, inner),
        normalization=norm,
        max_seq_len=None if pad is None else int(pad['max_seq_len']),
        sequence=None if pad is None else dict(
            pad='end', pad_value=0., pad_doy=0,
            cut='random' if pad['random_subsample'] else 'first'),
        window=_train_window(cfg, ds_cfg, inner, model),
        doy_range=_doy_range(inner) if inner is not None else None)
    return contract


def _inner_dataset_cfg(loader) -> dict:
    """The dataset config of a dataloader config, through wrappers."""
    ds = (loader or {}).get('dataset', None) or {}
    while isinstance(ds, dict):
        if 'dataset' in ds and isinstance(ds['dataset'], dict):
            ds = ds['dataset']  # RepeatDataset, ClassBalancedDataset
        elif ds.get('datasets'):
            ds = ds['datasets'][0]  # ConcatDataset
        else:
            break
    return ds if isinstance(ds, dict) else {}


def _inner_dataset(dataset):
    """The first real dataset inside dataset wrappers."""
    while True:
        if hasattr(dataset, 'datasets') and dataset.datasets:
            dataset = dataset.datasets[0]
        elif hasattr(dataset, 'dataset') and \
                not hasattr(dataset, 'get_data_info'):
            dataset = dataset.dataset
        else:
            return dataset


def _pipeline_steps(ds_cfg: dict, dataset) -> Tuple[Optional[dict],
                                                    Optional[dict]]:
    """Resolved ``NormalizeSITS`` and ``PadOrCutSequence`` settings of the
    training pipeline (the built one when available)."""
    from mmseg.registry import TRANSFORMS
    built = getattr(getattr(dataset, 'pipeline', None), 'transforms', None)
    steps = list(ds_cfg.get('pipeline', None) or [])
    norm = pad = None
    if built is not None:
        pairs = [(type(t).__name__, t, None) for t in built]
    else:
        pairs = [(s.get('type'), None, s) for s in steps]
    for name, t, step in pairs:
        if name == 'NormalizeSITS' and norm is None:
            if t is None:
                t = TRANSFORMS.build(copy.deepcopy(step))
            norm = dict(
                mean=[float(v) for v in t.mean],  # reads norm_file
                std=[float(v) for v in t.std],
                norm_file=None if t.norm_file is None else str(t.norm_file),
                folds=None if t.norm_file is None else [
                    int(f) for f in t.folds])
        elif name == 'PadOrCutSequence' and pad is None:
            if t is not None:
                pad = dict(max_seq_len=t.max_seq_len,
                           random_subsample=bool(t.random_subsample))
            else:
                pad = dict(max_seq_len=step.get('max_seq_len', 60),
                           random_subsample=bool(
                               step.get('random_subsample', False)))
    return norm, pad


def _train_bands(cfg: Config, ds_cfg: dict, dataset) -> Optional[List[str]]:
    """Band names in channel order, as inference would find them from the
    training config: a top-level ``bands``, else the training dataset's
    metainfo ``bands``."""
    bands = cfg.get('bands', None)
    if bands is None and dataset is not None:
        bands = (getattr(dataset, 'metainfo', None) or {}).get('bands')
    if bands is None and ds_cfg.get('type', None) is not None:
        from mmseg.registry import DATASETS
        dtype = ds_cfg['type']
        cls = DATASETS.get(dtype) if isinstance(dtype, str) else dtype
        info = dict(getattr(cls, 'METAINFO', None) or {})
        info.update(ds_cfg.get('metainfo', None) or {})
        bands = info.get('bands', None)
    if bands is None:
        return None
    return [canonical_band(b) or str(b) for b in bands]


def _pair(size) -> Optional[List[int]]:
    if size is None:
        return None
    if isinstance(size, (int, np.integer)):
        return [int(size), int(size)]
    size = [int(s) for s in size]
    return size if len(size) == 2 else None


def _train_window(cfg: Config, ds_cfg: dict, dataset,
                  model) -> Optional[List[int]]:
    """Crop size of the training samples: the dataset's ``window_size``,
    the data preprocessor's ``size``, the backbone's ``img_size``, the
    slide ``crop_size``, else the first training sample's size."""
    size = getattr(dataset, 'window_size', None) if dataset is not None \
        else ds_cfg.get('window_size', None)
    if size is None:
        if model is not None:
            pre = getattr(model, 'data_preprocessor', None)
            size = getattr(pre, 'size', None)
            if size is None:
                size = getattr(getattr(model, 'backbone', None), 'img_size',
                               None)
            if size is None:
                size = (getattr(model, 'test_cfg', None) or {}).get(
                    'crop_size', None)
        else:
            mcfg = cfg.get('model', None) or {}
            size = (mcfg.get('data_preprocessor', None) or {}).get('size')
            if size is None:
                size = (mcfg.get('backbone', None) or {}).get('img_size')
            if size is None:
                size = (mcfg.get('test_cfg', None) or {}).get('crop_size')
    if size is None and dataset is not None:
        size = _first_sample_size(dataset)
    return _pair(size)


def _first_sample_size(dataset) -> Optional[Tuple[int, int]]:
    """(H, W) of the first training sample; the random generators are
    restored afterwards, so training draws the same numbers."""
    state = (random.getstate(), np.random.get_state(), torch.get_rng_state())
    try:
        sample = dataset[0]
        inputs = sample['inputs'] if isinstance(sample, dict) else None
        return tuple(inputs.shape[-2:]) if inputs is not None else None
    except Exception as exc:  # noqa: BLE001  (the window stays unknown)
        print_log(f'data contract: the first training sample gives no '
                  f'window size ({exc})', logger='current', level=WARNING)
        return None
    finally:
        random.setstate(state[0])
        np.random.set_state(state[1])
        torch.set_rng_state(state[2])


def _doy(value) -> Optional[int]:
    """Day of year of a date (``YYYYMMDD`` int or str, ISO string, date)
    or of a day-of-year int (1..366)."""
    if isinstance(value, datetime.date):
        return value.timetuple().tm_yday
    text = str(value).strip().replace('-', '')
    if text.isdigit() and len(text) == 8:
        try:
            date = datetime.date(int(text[:4]), int(text[4:6]),
                                 int(text[6:]))
        except ValueError:
            return None
        return date.timetuple().tm_yday
    if text.isdigit() and int(text) <= 366:  # 0: padding
        return int(text)
    return None


def _doy_range(dataset) -> Optional[List[int]]:
    """(min, max) day of year of the training dates, from data infos that
    list them (``dates`` or ``doy``, e.g. raw PASTIS); None otherwise."""
    get = getattr(dataset, 'get_data_info', None)
    if get is None or len(dataset) == 0:
        return None
    key = next((k for k in ('doy', 'dates') if k in get(0)), None)
    if key is None:
        return None
    lo, hi, seen = 367, 0, set()
    for i in range(len(dataset)):
        info = get(i)
        tag = info.get('img_path', i)
        if tag in seen:  # windows of one patch share its dates
            continue
        seen.add(tag)
        for value in info[key]:
            d = _doy(value)
            if d is None:
                return None
            if d:  # 0: padding
                lo, hi = min(lo, d), max(hi, d)
    return [lo, hi] if hi else None


# ----------------------------------------------------------------------
# use (inference side)
def read_data_contract(checkpoint: dict,
                       name: str = 'checkpoint') -> Optional[dict]:
    """The data contract of a loaded checkpoint, checked.

    Args:
        checkpoint (dict): What ``torch.load`` / ``load_checkpoint`` gave.
        name (str): The checkpoint file, for messages.

    Returns:
        dict | None: The contract, or None for checkpoints saved without
        one.

    Raises:
        ValueError: If the contract is of a newer version or malformed.
    """
    meta = checkpoint.get('meta', None) if isinstance(checkpoint, dict) \
        else None
    contract = (meta or {}).get('data_contract', None)
    if contract is None:
        return None
    if not isinstance(contract, dict) or 'version' not in contract:
        raise ValueError(f'{name}: meta.data_contract is not a dict with a '
                         'version')
    if int(contract['version']) > DATA_CONTRACT_VERSION:
        raise ValueError(
            f'{name}: data contract version {contract["version"]} is newer '
            f'than this mmexact reads ({DATA_CONTRACT_VERSION}); update '
            'mmexact')
    norm = contract.get('normalization', None)
    if norm is not None:
        mean, std = norm.get('mean'), norm.get('std')
        if not mean or not std or len(mean) != len(std):
            raise ValueError(f'{name}: data contract normalisation needs '
                             'mean and std of equal length')
        bands = contract.get('bands', None)
        if bands is not None and len(bands) != len(mean):
            raise ValueError(
                f'{name}: data contract has {len(bands)} bands but '
                f'{len(mean)} normalisation values')
    return contract


def _pipelines(cfg: Config) -> List[Tuple[str, list]]:
    """The test pipelines inference reads (name, list)."""
    out = []
    ds = (cfg.get('test_dataloader', None) or {}).get('dataset', None)
    if isinstance(ds, dict) and ds.get('pipeline', None) is not None:
        out.append(('test_dataloader.dataset.pipeline', ds['pipeline']))
    if cfg.get('test_pipeline', None) is not None:
        out.append(('test_pipeline', cfg['test_pipeline']))
    return out


def _norm_origin(norm: dict) -> str:
    if norm.get('norm_file'):
        return (f"the checkpoint's statistics (read from "
                f"{norm['norm_file']} at training)")
    return "the checkpoint's statistics"


def apply_data_contract(cfg: Config, contract: dict,
                        name: str = 'checkpoint') -> Config:
    """Make a config's test pipelines follow a data contract (in place).

    Every ``NormalizeSITS`` of ``test_dataloader.dataset.pipeline`` and
    ``test_pipeline`` gets the contract's ``mean`` / ``std`` (so the
    config's ``norm_file`` need not exist; when it exists and holds other
    values, or the config gives other values, a warning names both), and
    every ``PadOrCutSequence`` the contract's ``max_seq_len``. Bands and
    the window are read from the contract by the inferencer.

    Args:
        cfg (Config): A model's config.
        contract (dict): From :func:`read_data_contract`.
        name (str): The checkpoint, for messages.

    Returns:
        Config: ``cfg``.
    """
    from mmseg.registry import TRANSFORMS
    norm = contract.get('normalization', None)
    max_len = contract.get('max_seq_len', None)
    said = set()

    def log(msg, level):
        if msg not in said:
            said.add(msg)
            print_log(msg, logger='current', level=level)

    for where, pipeline in _pipelines(cfg):
        for i, step in enumerate(pipeline):
            kind = step.get('type', None)
            if kind == 'NormalizeSITS' and norm is not None:
                mean = np.asarray(norm['mean'], np.float32)
                std = np.asarray(norm['std'], np.float32)
                given = step.get('norm_file', None)
                if given is not None and not osp.isfile(given):
                    log(f'{name}: the config\'s norm_file {given} is not '
                        f'there; {_norm_origin(norm)} are used', INFO)
                else:
                    try:
                        t = TRANSFORMS.build(copy.deepcopy(step))
                        same = t.mean.shape == mean.shape and np.allclose(
                            t.mean, mean) and np.allclose(t.std, std)
                    except ValueError as exc:
                        same = False
                        given = f'{given} ({exc})'
                    if not same:
                        what = given if given is not None else \
                            f'the config\'s mean/std ({where}.{i})'
                        log(f'{name}: {what} differs from the statistics '
                            f'the model was trained with; '
                            f'{_norm_origin(norm)} are used', WARNING)
                pipeline[i] = dict(type='NormalizeSITS',
                                   mean=[float(v) for v in mean],
                                   std=[float(v) for v in std])
            elif kind == 'PadOrCutSequence' and max_len is not None:
                if int(step.get('max_seq_len', 60)) != int(max_len):
                    log(f'{name}: the config pads/cuts to '
                        f'{step.get("max_seq_len", 60)} dates, the model '
                        f'was trained with {max_len}; {max_len} is used',
                        WARNING)
                step['max_seq_len'] = int(max_len)
    return cfg


def doy_outside_training(doy: Sequence[int], contract: Optional[dict],
                         name: str = 'scene',
                         margin: int = DOY_MARGIN) -> Optional[str]:
    """A warning when a scene's dates lie far outside the training dates.

    Args:
        doy (Sequence[int]): (T,) day of year of the scene's dates.
        contract (dict, optional): The model's data contract.
        name (str): The scene, for the message.
        margin (int): Days allowed beyond the training range.

    Returns:
        str | None: One message counting the dates more than ``margin``
        days before the first or after the last training day of year;
        None when there are none or the contract has no ``doy_range``.
    """
    rng = (contract or {}).get('doy_range', None)
    if not rng:
        return None
    lo, hi = int(rng[0]), int(rng[1])
    doy = np.asarray(doy, np.int64)
    far = doy[(doy < lo - margin) | (doy > hi + margin)]
    if far.size == 0:
        return None
    return (f'{name}: {far.size} of {doy.size} dates (day of year '
            f'{", ".join(str(int(d)) for d in far[:10])}'
            f'{" ..." if far.size > 10 else ""}) lie more than {margin} days '
            f'outside the training dates (day of year {lo}..{hi}); the '
            'model has not seen that part of the season')


def ensure_data_contract_hook(cfg: Config) -> bool:
    """Append ``DataContractHook`` to ``cfg.custom_hooks`` if missing.

    ``configs/_base_/default_runtime.py`` lists the hook, but a config that
    assigns its own ``custom_hooks`` replaces that list (mmengine merges
    dicts, not lists); the training tools call this so that every
    checkpoint they write carries its data contract.

    Args:
        cfg (Config): A training config (modified in place).

    Returns:
        bool: Whether the hook was added.
    """
    hooks = list(cfg.get('custom_hooks', None) or [])
    for hook in hooks:
        kind = hook.get('type', None) if isinstance(hook, dict) else hook
        if kind == _HOOK or getattr(kind, '__name__', None) == _HOOK or \
                type(kind).__name__ == _HOOK:
            return False
    hooks.append(dict(type=_HOOK))
    cfg.custom_hooks = hooks
    return True
