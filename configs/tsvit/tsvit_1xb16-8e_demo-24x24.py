# `make demo`, fully supervised TSViT on the synthetic PASTIS data (the
# upper bound for Exact's stage 2): same small network as the stage-2 demo,
# the demo's 8-epoch schedule (1 process x 16).
_base_ = [
    '../_base_/models/tsvit_seg.py',
    '../_base_/datasets/synthetic_pastis_demo.py',
    '../_base_/schedules/schedule_demo_8e.py', '../_base_/default_runtime.py'
]
model = dict(
    backbone=dict(
        embed_dims=32, temporal_depth=2, spatial_depth=1, num_heads=4,
        head_dims=8, ffn_dims=64),
    # the corrected pixel layout learns much faster in a short schedule
    decode_head=dict(in_channels=32, legacy_unpatchify=False))
