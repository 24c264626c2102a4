# `make demo`, vanilla-CAM baseline: the Exact demo without clues.
_base_ = ['../exact/exact_tsvit_1xb16-8e_demo-24x24.py']
model = dict(
    backbone=dict(with_temporal_attention=False),
    decode_head=dict(
        _delete_=True,
        type='SITSCAMHead',
        in_channels=32,
        num_classes=19,
        loss_cls=dict(
            type='CrossEntropyLoss', use_sigmoid=True, avg_non_ignore=True,
            loss_weight=1.0, loss_name='loss_cls'),
        loss_aux=dict(
            type='CrossEntropyLoss', use_sigmoid=True, avg_non_ignore=True,
            loss_weight=0.5, loss_name='loss_aux'),
        bg_threshold=0.35,
        cam_gating='gt'))
