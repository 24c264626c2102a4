# `make demo`, vanilla-CAM baseline: the Exact demo without clues.
_base_ = ['../exact/exact_tsvit_1xb16-8e_demo-24x24.py']
# data and schedule of Exact's config, none of its components
custom_imports = dict(imports=['mmexact'], allow_failed_imports=False)
model = dict(
    backbone=dict(with_temporal_attention=False),
    decode_head=dict(
        _delete_=True,
        type='SITSCAMHead',
        in_channels=32,
        num_classes=19,
        # default losses: the reference's MLSM, weights 1 (global) and 0.5
        bg_threshold=0.35,
        cam_gating='gt'))
