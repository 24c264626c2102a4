# Copyright (c) mmexact contributors. All rights reserved.
"""mmseg-style inference API for SITS models: ``init_model`` and
``inference_sits`` (arrays or files in, classes and scores out)."""
import copy
import datetime
import os.path as osp
from logging import INFO
from typing import Optional, Sequence, Union

import numpy as np
import torch
from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint

from mmseg.registry import MODELS
from ..structures import SITSDataError
from ..utils.data_contract import apply_data_contract, read_data_contract
from .sits_inferencer import (SITSArraySource, SITSInferencer,
                              config_dataset_meta)

__all__ = ['init_model', 'inference_sits']


def init_model(config: Union[str, Config],
               checkpoint: Optional[str] = None,
               device: str = 'cpu',
               cfg_options: Optional[dict] = None) -> torch.nn.Module:
    """Build a model from a config, load its weights, set eval mode.

    Like ``mmseg.apis.init_model``, but checkpoints are loaded strictly
    with mmexact's restricted loader, and ``model.dataset_meta`` (class
    names, palette, band order) is the metainfo of the config's dataset
    class (e.g. PASTIS's, see :func:`config_dataset_meta`) updated by the
    checkpoint's ``meta.dataset_meta`` (the training dataset's metainfo,
    saved by the Runner): a checkpoint older than the ``bands`` key still
    gets the bands of its config's dataset. Nothing comes from another
    dataset.

    A checkpoint with a data contract (``meta.data_contract``, written by
    :class:`mmexact.engine.DataContractHook`, see
    :mod:`mmexact.utils.data_contract`) fixes the data settings: its
    normalisation statistics replace every ``NormalizeSITS`` of the test
    pipeline (the config's ``norm_file`` need not exist; a warning names a
    config file or values that differ), its ``max_seq_len`` that of
    ``PadOrCutSequence``; its bands and window are read by
    :class:`SITSInferencer` (``model.data_contract``). Checkpoints without
    a contract use the config's settings, as before (logged once).

    Args:
        config (str | Config): Config file or object.
        checkpoint (str, optional): Weights; None keeps the initial
            (random) weights.
        device (str): Torch device. Defaults to ``'cpu'``.
        cfg_options (dict, optional): Overrides merged into the config.

    Returns:
        torch.nn.Module: The model, with ``cfg``, ``dataset_meta`` and
        ``data_contract`` (dict, or None without one).

    Raises:
        ValueError: If the checkpoint's data contract is malformed or of a
            newer version.
    """
    if isinstance(config, (str, bytes)) or hasattr(config, '__fspath__'):
        if not osp.isfile(config):
            raise FileNotFoundError(f'{config}: config file not found')
        cfg = Config.fromfile(config)
    elif isinstance(config, Config):
        cfg = copy.deepcopy(config)
    else:
        raise TypeError(f'config must be a path or a Config, got '
                        f'{type(config).__name__}')
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    model = MODELS.build(cfg.model)
    meta = contract = None
    if checkpoint is not None:
        if not osp.isfile(checkpoint):
            raise FileNotFoundError(f'{checkpoint}: checkpoint not found')
        try:
            ckpt = load_checkpoint(
                model, checkpoint, map_location='cpu', strict=True)
        except RuntimeError as exc:
            if 'state_dict' in str(exc) or 'size mismatch' in str(exc):
                raise RuntimeError(
                    f'{checkpoint}: weights do not fit the model of the '
                    f'config ({str(exc).splitlines()[0]})') from exc
            raise
        meta = (ckpt.get('meta', None) or {}).get('dataset_meta', None)
        contract = read_data_contract(ckpt, checkpoint)
        if contract is not None:
            apply_data_contract(cfg, contract, checkpoint)
        else:
            print_log(
                f'{checkpoint}: no data contract (saved without '
                'DataContractHook); the config\'s data settings (bands, '
                'normalisation, max_seq_len) are used', logger='current',
                level=INFO)
    model.cfg = cfg
    model.data_contract = contract
    dataset_meta = config_dataset_meta(cfg)
    dataset_meta.update(meta or {})
    model.dataset_meta = dataset_meta
    return model.to(device).eval()


def _doy(dates: Sequence) -> np.ndarray:
    """Day of year from ints (1..366), dates or 'YYYY-MM-DD' strings."""
    out = []
    for d in dates:
        if isinstance(d, (datetime.date, np.datetime64)):
            d = np.datetime64(d, 'D').astype(object)
            out.append(d.timetuple().tm_yday)
        elif isinstance(d, str):
            out.append(datetime.date.fromisoformat(d).timetuple().tm_yday)
        else:
            out.append(int(d))
    return np.asarray(out, np.int64)


def inference_sits(model: torch.nn.Module,
                   img,
                   dates: Optional[Sequence] = None,
                   **kwargs) -> dict:
    """Segment one satellite image time series of any size.

    Args:
        model (torch.nn.Module): From :func:`init_model`.
        img (np.ndarray | str): (T, C, H, W) array in the model's units
            (Sentinel-2 L2A reflectance x 10000 without the 2022 offset,
            bands in the model's order, no-data -10000), with ``dates``;
            or a path (a folder of per-date GeoTIFFs or a stack) read by
            :func:`mmexact.geo.open_scene` (then ``dates`` may list the
            stack's dates, and ``scene_options`` go to it).
        dates (Sequence): (T,) acquisition dates (``datetime.date``,
            ``'YYYY-MM-DD'``) or days of year 1..366.
        **kwargs: :class:`SITSInferencer` options (``batch_size``,
            ``window``, ``stride``, ``weighting``, ``block_size``,
            ``image_labels`` and ``bg_threshold`` for CAM models),
            ``progress`` and ``scene_options`` (dict, for paths).

    Returns:
        dict: ``pred`` (H, W) uint8 (255 where every date is no-data),
        ``scores`` (K, H, W) float32 class scores (softmax; CAM models: the
        CAM scores with background theta), ``seg_logits`` (K, H, W) the
        stitched model outputs, ``valid`` (H, W) bool, ``classes``,
        ``palette``; for files also ``profile`` (CRS, transform) and
        ``dates``.
    """
    progress = kwargs.pop('progress', False)
    scene_options = kwargs.pop('scene_options', None) or {}
    inferencer = SITSInferencer(model, **kwargs)
    extra = {}
    if isinstance(img, (str, bytes)) or hasattr(img, '__fspath__'):
        from ..geo import open_scene  # rasterio only when files are used
        try:
            source = open_scene(
                str(img), inferencer.bands, dates=dates,
                max_seq_len=inferencer.max_seq_len, **scene_options)
        except SITSDataError as exc:
            if 'band' not in str(exc):
                raise
            raise SITSDataError(
                f'{exc} [model bands: {inferencer.bands_source}]') from exc
        extra = dict(profile=source.profile, dates=source.dates)
    else:
        if dates is None:
            raise ValueError('give the acquisition dates of the array')
        source = SITSArraySource(img, _doy(dates))
    try:
        out = inferencer.predict_array(source, progress)
    finally:
        if hasattr(source, 'close'):
            source.close()
    out.update(classes=inferencer.classes, palette=inferencer.palette,
               **extra)
    return out
