# Vanilla-CAM baseline: the same backbone, data and schedule as Exact's
# stage 1, plain multi-label classification (global + patch logits), CAM
# from the shared patch head ((ReLU(A_S) + ReLU(A_T)) / 2), no clues,
# no prototypes, no TAAP.
_base_ = ['../exact/exact_tsvit_pastis.py']
model = dict(
    backbone=dict(with_temporal_attention=False),
    decode_head=dict(
        _delete_=True,
        type='CAMHead',
        in_channels=128,
        num_classes=19,
        cls_weight=1.0,
        aux_weight=0.5,
        bg_threshold=0.35,
        cam_gating='gt'))
model_wrapper_cfg = dict(
    type='MMDistributedDataParallel', find_unused_parameters=False)
