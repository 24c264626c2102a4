# Copyright (c) mmexact contributors. All rights reserved.
"""Tiny model configs for fast tests and smoke runs."""
from typing import Optional

from ..datasets.pastis_meta import PASTIS_FOLD1_MEAN, PASTIS_FOLD1_STD

__all__ = [
    'TINY_BACKBONE', 'sits_pipeline', 'tiny_tsvit_cfg', 'tiny_segmentor_cfg'
]

# Backbone overrides that shrink any TSViT config to a few thousand weights.
TINY_BACKBONE = dict(
    embed_dims=16,
    temporal_depth=1,
    spatial_depth=1,
    num_heads=2,
    head_dims=8,
    ffn_dims=32)


def sits_pipeline(max_seq_len: int = 60,
                  augment=(),
                  random_subsample: bool = False) -> list:
    """The standard PASTIS pipeline: load, normalise (PASTIS Fold_1
    statistics), pad/cut, image-level labels (18 classes, > 1 %), date,
    pack — the steps of the PASTIS base dataset configs.

    Args:
        max_seq_len (int): Frames after padding / cutting.
        augment (Sequence[dict]): Transforms inserted before packing.
        random_subsample (bool): Random frames when cutting.
    """
    pad = dict(type='PadOrCutSequence', max_seq_len=max_seq_len)
    if random_subsample:
        pad['random_subsample'] = True
    return [
        dict(type='LoadSITSSample'),
        dict(type='NormalizeSITS', mean=list(PASTIS_FOLD1_MEAN),
             std=list(PASTIS_FOLD1_STD)),
        pad,
        dict(type='GenerateImageLabels', num_classes=18),
        dict(type='AppendDayOfYear'),
        *augment,
        dict(type='PackSITSInputs'),
    ]


def tiny_tsvit_cfg(**kwargs) -> dict:
    """A 2-head, 1+1-layer, d=16 TSViT on 24 x 24 windows."""
    cfg = dict(
        type='TSViT',
        img_size=24,
        patch_size=2,
        in_channels=10,
        num_tokens=19,
        **TINY_BACKBONE)
    cfg.update(kwargs)
    return cfg


def tiny_segmentor_cfg(**backbone_kwargs) -> dict:
    """``SITSEncoderDecoder`` with a tiny TSViT and ``TSViTHead``."""
    return dict(
        type='SITSEncoderDecoder',
        data_preprocessor=dict(type='SITSDataPreProcessor'),
        backbone=tiny_tsvit_cfg(**backbone_kwargs),
        decode_head=dict(
            type='TSViTHead',
            in_channels=backbone_kwargs.get('embed_dims', 16),
            num_classes=19,
            loss_decode=dict(
                type='CrossEntropyLoss', loss_weight=1.0,
                avg_non_ignore=True)),
        train_cfg=dict(),
        test_cfg=dict(mode='whole'))


def tiny_run_config(base: str,
                    data_root: str,
                    max_iters: int,
                    val_interval: int = 1000,
                    checkpoint_interval: int = 2,
                    batch_size: int = 2,
                    max_seq_len: int = 12,
                    train_augment=(),
                    random_subsample: bool = False,
                    head: str = 'decode_head=dict(in_channels=16)',
                    backbone: Optional[dict] = None) -> str:
    """Text of a config that runs ``base`` tiny and fast through the tools.

    Inherits ``base`` (an absolute path), shrinks the backbone to
    :data:`TINY_BACKBONE`, points every dataloader at ``data_root`` with
    ``num_workers=0``, and runs ``max_iters`` iterations with frequent logs
    and checkpoints (iterations are actual iterations: no base batch; the
    schedule check of :class:`SITSTrainStepHook` is off). Append lines to
    add more settings, but do not assign ``model``, ``default_hooks``,
    ``train_cfg`` or ``custom_hooks`` again (a second assignment in the
    same file replaces the first): use ``head`` and the arguments.

    Args:
        base (str): Config to inherit (absolute path).
        data_root (str): Dataset root for all splits.
        max_iters (int): Training iterations.
        val_interval (int): Validation interval.
        checkpoint_interval (int): Checkpoint interval.
        batch_size (int): Batch size of every loader.
        max_seq_len (int): Frames per sample.
        train_augment (Sequence[dict]): Augmentations of the train pipeline.
        random_subsample (bool): Random frame subsets in training.
        head (str): Model override for the head (as config text).
        backbone (dict, optional): Backbone overrides; defaults to
            :data:`TINY_BACKBONE` (TSViT).
    """
    backbone = TINY_BACKBONE if backbone is None else backbone
    return (
        f"_base_ = [{base!r}]\n"
        f"model = dict(backbone={backbone!r}, {head})\n"
        "train_pipeline = "
        f"{sits_pipeline(max_seq_len, train_augment, random_subsample)!r}\n"
        f"test_pipeline = {sits_pipeline(max_seq_len)!r}\n"
        f"loader = dict(batch_size={batch_size}, num_workers=0, "
        "persistent_workers=False)\n"
        "train_dataloader = dict(**loader, dataset=dict("
        f"data_root={data_root!r}, pipeline=train_pipeline))\n"
        "val_dataloader = dict(**loader, dataset=dict("
        f"data_root={data_root!r}, pipeline=test_pipeline))\n"
        "test_dataloader = dict(**loader, dataset=dict("
        f"data_root={data_root!r}, pipeline=test_pipeline))\n"
        "train_cfg = dict(_delete_=True, type='IterBasedEpochTrainLoop', "
        f"max_iters={max_iters}, val_interval={val_interval})\n"
        "default_hooks = dict(logger=dict(interval=1), checkpoint=dict("
        f"interval={checkpoint_interval}, save_best=None))\n"
        # a few iterations cannot pass the schedule check of real runs
        "custom_hooks = [dict(type='NonFiniteLossHook'), "
        "dict(type='RNGStateHook'), "
        "dict(type='SITSTrainStepHook', check_schedule=False), "
        "dict(type='DataContractHook')]\n")
