# Vanilla-CAM baseline: the same backbone, data and schedule as Exact's
# stage 1, plain multi-label classification (global + patch logits), CAM
# from the shared patch head ((ReLU(A_S) + ReLU(A_T)) / 2), no clues,
# no prototypes, no TAAP.
_base_ = ['../exact/exact_tsvit_1xb48-20e_pastis24-24x24.py']
# data and schedule of Exact's config, none of its components
custom_imports = dict(imports=['mmexact'], allow_failed_imports=False)
model = dict(
    backbone=dict(with_temporal_attention=False),
    decode_head=dict(
        _delete_=True,
        type='SITSCAMHead',
        in_channels=128,
        num_classes=19,
        # default losses: the reference's MLSM, weights 1 (global) and 0.5
        bg_threshold=0.35,
        cam_gating='gt'))
