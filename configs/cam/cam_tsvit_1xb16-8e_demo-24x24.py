# `make demo`, vanilla-CAM baseline: the Exact demo without clues.
_base_ = ['../exact/exact_tsvit_demo.py']
model = dict(
    backbone=dict(with_temporal_attention=False),
    decode_head=dict(
        _delete_=True,
        type='CAMHead',
        in_channels=32,
        num_classes=19,
        cls_weight=1.0,
        aux_weight=0.5,
        bg_threshold=0.35,
        cam_gating='gt'))
model_wrapper_cfg = dict(
    type='MMDistributedDataParallel', find_unused_parameters=False)
