# Copyright (c) mmexact contributors. All rights reserved.
"""Tiny model configs for fast tests and smoke runs."""

__all__ = ['tiny_tsvit_cfg', 'tiny_segmentor_cfg']


def tiny_tsvit_cfg(**kwargs) -> dict:
    """A 2-head, 1+1-layer, d=16 TSViT on 24 x 24 windows."""
    cfg = dict(
        type='TSViT',
        img_size=24,
        patch_size=2,
        in_channels=10,
        embed_dims=16,
        num_tokens=19,
        temporal_depth=1,
        spatial_depth=1,
        num_heads=2,
        head_dims=8,
        ffn_dims=32)
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
