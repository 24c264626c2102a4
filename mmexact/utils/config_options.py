# Copyright (c) mmexact contributors. All rights reserved.
from typing import List

from mmengine.config import Config

__all__ = ['pseudo_label_options']


def pseudo_label_options(cfg: Config, pseudo_label_dir: str,
                         split: str = 'train') -> List[str]:
    """``--cfg-options`` pointing a split's ``LoadPseudoLabel`` at a folder.

    Args:
        cfg (Config): E.g. a stage-2 config.
        pseudo_label_dir (str): Folder of the pseudo-label PNGs.
        split (str): Dataloader whose pipeline reads them. Defaults to
            ``'train'``.

    Returns:
        list[str]: ``<split>_dataloader.dataset.pipeline.<i>.
        pseudo_label_dir=<dir>`` for every ``LoadPseudoLabel`` step ``i``
        (found by type).

    Raises:
        ValueError: If the pipeline has no ``LoadPseudoLabel``.
    """
    loader = cfg.get(f'{split}_dataloader') or {}
    pipeline = (loader.get('dataset') or {}).get('pipeline') or []
    steps = [i for i, t in enumerate(pipeline)
             if isinstance(t, dict) and t.get('type') == 'LoadPseudoLabel']
    if not steps:
        raise ValueError(
            f'the {split} pipeline of the config has no LoadPseudoLabel '
            'step: add dict(type=\'LoadPseudoLabel\', pseudo_label_dir=...) '
            'after LoadSITSSample (see configs/exact/exact-stage2_*.py)')
    return [f'{split}_dataloader.dataset.pipeline.{i}.pseudo_label_dir='
            f'{pseudo_label_dir}' for i in steps]
