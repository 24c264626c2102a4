# Copyright (c) mmexact contributors. All rights reserved.
"""Configs pointed at a prepared region (the output of
``tools/dataset_converters/scene_to_windows.py``)."""
import json
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Union

from mmengine.config import Config, DictAction

from ..structures import SITSDataError
from .config_options import data_root_options

__all__ = ['region_num_classes', 'region_options', 'write_region_configs']


def region_num_classes(data_root: str) -> int:
    """Classes (background + crops) of a prepared region."""
    path = osp.join(data_root, 'classes.json')
    try:
        with open(path) as f:
            return len(json.load(f)['classes'])
    except (OSError, KeyError, json.JSONDecodeError) as exc:
        raise SITSDataError(f'{path}: cannot read the class table ({exc})'
                            ) from None


def region_options(cfg: Union[str, Config], data_root: str) -> List[str]:
    """``--cfg-options`` that point an own-region config at ``data_root``.

    Every split's ``data_root`` and ``NormalizeSITS`` statistics
    (``<data_root>/norm.json``), and the class count of the region in the
    head (``num_classes``) and in the backbone's class tokens
    (``num_tokens``: the class count where the config's tokens equal its
    classes, a fully supervised TSViT, else the crop count, Exact's
    per-crop tokens).

    Args:
        cfg (str | Config): An own-region config (or its file).
        data_root (str): The prepared region.

    Returns:
        list[str]: ``key=value`` strings.
    """
    cfg = Config.fromfile(cfg) if isinstance(cfg, str) else cfg
    n = region_num_classes(data_root)
    opts = data_root_options(cfg, data_root, 'norm.json')
    head = cfg.model.get('decode_head', {})
    backbone = cfg.model.get('backbone', {})
    if 'num_classes' in head:
        opts.append(f'model.decode_head.num_classes={n}')
        if 'num_tokens' in backbone:
            tokens = n if backbone['num_tokens'] == head['num_classes'] \
                else n - 1
            opts.append(f'model.backbone.num_tokens={tokens}')
    return opts


def _as_dict(opts: Sequence[str]) -> Dict:
    """Parse ``key=value`` strings as ``--cfg-options`` does."""
    import argparse
    parser = argparse.ArgumentParser()
    parser.add_argument('--o', nargs='+', action=DictAction)
    return parser.parse_args(['--o', *opts]).o


def write_region_configs(data_root: str, configs: Sequence[str],
                         out_dir: Optional[str] = None) -> Dict[str, str]:
    """Write ready configs for a region (into ``<data_root>/configs/`` by
    default).

    Each is the shipped config merged with :func:`region_options` and
    dumped whole (it does not depend on the repository's ``_base_``
    files). The Exact stage-1 config's ``stage2_config`` names the written
    stage-2 config.

    Returns:
        dict[str, str]: Shipped config -> written file.
    """
    out_dir = out_dir or osp.join(data_root, 'configs')
    os.makedirs(out_dir, exist_ok=True)
    written = {}
    for path in configs:
        cfg = Config.fromfile(path)
        cfg.merge_from_dict(_as_dict(region_options(cfg, data_root)))
        out = osp.join(out_dir, osp.basename(path))
        cfg.dump(out)
        written[path] = out
    return written
