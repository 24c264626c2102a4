# Copyright (c) mmexact contributors. All rights reserved.
"""``--cfg-options`` for pipeline steps, found by type.

MMEngine reaches an element of a list (a pipeline step) only by its index,
so the tools look the steps up in the config they launch instead of
assuming positions.
"""
import os.path as osp
from typing import List, Optional, Sequence, Union

from mmengine.config import Config

__all__ = [
    'pipeline_options', 'data_root_options', 'pseudo_label_options',
    'THETA_RULES', 'theta_rule_args'
]

SPLITS = ('train', 'val', 'test')
#: how ``tools/exact/generate_pseudo_labels.py --theta-rule`` chooses the
#: background threshold theta and the stage-1 checkpoint: ``'pixel'``
#: (pixel truth of the split, Exact's protocol), ``'image-labels'``
#: (presence F1 of ungated CAMs against the image labels,
#: :class:`ImageLabelSweepMetric`), ``'fixed'`` (``--bg-threshold``)
THETA_RULES = ('pixel', 'image-labels', 'fixed')


def _config(cfg: Union[str, Config]) -> Config:
    return Config.fromfile(cfg) if isinstance(cfg, str) else cfg


def pipeline_options(cfg: Union[str, Config],
                     step_type: str,
                     splits: Sequence[str] = SPLITS,
                     **values) -> List[str]:
    """Overrides setting ``values`` in every ``step_type`` step.

    Args:
        cfg (str | Config): The config (or its file) the options are for.
        step_type (str): Transform type, e.g. ``'NormalizeSITS'``.
        splits (Sequence[str]): Dataloaders whose pipelines to search.
        **values: Keys and values to set.

    Returns:
        list[str]: ``<split>_dataloader.dataset.pipeline.<i>.<key>=<value>``
        for every matching step ``i`` (none if the type does not occur).
    """
    cfg = _config(cfg)
    opts = []
    for split in splits:
        loader = cfg.get(f'{split}_dataloader') or {}
        pipeline = (loader.get('dataset') or {}).get('pipeline') or []
        for i, step in enumerate(pipeline):
            if isinstance(step, dict) and step.get('type') == step_type:
                opts += [f'{split}_dataloader.dataset.pipeline.{i}.{k}={v}'
                         for k, v in values.items()]
    return opts


def data_root_options(cfg: Union[str, Config],
                      data_root: str,
                      norm_file: str = 'NORM_S2_patch.json') -> List[str]:
    """Overrides pointing a config at the data in ``data_root``.

    The top-level ``data_root``, every split's ``dataset.data_root`` and
    the ``norm_file`` of its ``NormalizeSITS`` steps
    (``<data_root>/<norm_file>``).
    """
    cfg = _config(cfg)
    opts = [f'data_root={data_root}'] + [
        f'{split}_dataloader.dataset.data_root={data_root}'
        for split in SPLITS if cfg.get(f'{split}_dataloader')
    ]
    return opts + pipeline_options(
        cfg, 'NormalizeSITS', norm_file=osp.join(data_root, norm_file))


def pseudo_label_options(cfg: Union[str, Config], pseudo_label_dir: str,
                         split: str = 'train') -> List[str]:
    """Overrides pointing a split's ``LoadPseudoLabel`` at a folder.

    Args:
        cfg (str | Config): E.g. a stage-2 config.
        pseudo_label_dir (str): Folder of the pseudo-label PNGs.
        split (str): Dataloader whose pipeline reads them. Defaults to
            ``'train'``.

    Raises:
        ValueError: If the pipeline has no ``LoadPseudoLabel``.
    """
    opts = pipeline_options(cfg, 'LoadPseudoLabel', (split, ),
                            pseudo_label_dir=pseudo_label_dir)
    if not opts:
        raise ValueError(
            f'the {split} pipeline of the config has no LoadPseudoLabel '
            'step: add dict(type=\'LoadPseudoLabel\', pseudo_label_dir=...) '
            'after LoadSITSSample (see configs/exact/exact-stage2_*.py)')
    return opts


def theta_rule_args(rule: str = 'pixel',
                    bg_threshold: Optional[float] = None,
                    min_fraction: Optional[float] = None) -> List[str]:
    """Arguments of ``tools/exact/generate_pseudo_labels.py`` for a rule.

    The one place where callers (``tools/exact/run_exact_pipeline.py``,
    region pipelines) turn a theta rule into the tool's command line.

    Args:
        rule (str): One of :data:`THETA_RULES`. Defaults to ``'pixel'``.
        bg_threshold (float, optional): theta; needed by (and only
            allowed with) ``'fixed'``.
        min_fraction (float, optional): Presence fraction of
            ``'image-labels'`` (the tool's default: 0.01); only allowed
            with that rule.

    Returns:
        list[str]: E.g. ``['--theta-rule', 'fixed', '--bg-threshold',
        '0.3']``.

    Raises:
        ValueError: For an unknown rule or an option the rule does not
            take.
    """
    if rule not in THETA_RULES:
        raise ValueError(f'theta rule must be one of {THETA_RULES}, got '
                         f'{rule!r}')
    if (bg_threshold is not None) != (rule == 'fixed'):
        raise ValueError('a bg_threshold is needed by, and only allowed '
                         f"with, the theta rule 'fixed' (rule {rule!r})")
    if min_fraction is not None and rule != 'image-labels':
        raise ValueError("min_fraction belongs to the theta rule "
                         f"'image-labels', not {rule!r}")
    args = ['--theta-rule', rule]
    if bg_threshold is not None:
        args += ['--bg-threshold', repr(float(bg_threshold))]
    if min_fraction is not None:
        args += ['--min-fraction', repr(float(min_fraction))]
    return args
