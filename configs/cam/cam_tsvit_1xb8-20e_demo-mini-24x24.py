# The miniature of `make demo` (`tools/demo/run_demo.py --mini`),
# vanilla-CAM baseline: Exact's stage-1 mini
# (configs/exact/exact_tsvit_1xb8-20e_demo-mini-24x24.py: its data and
# schedule, 1 process x 8 samples, 16 frames, 20 epochs with a 2-epoch
# warm-up) with the vanilla CAM head of the demo's baseline
# (cam_tsvit_1xb16-8e_demo-24x24.py), none of Exact's components.
_base_ = ['../exact/exact_tsvit_1xb8-20e_demo-mini-24x24.py']
custom_imports = dict(imports=['mmexact'], allow_failed_imports=False)
model = dict(
    backbone=dict(with_temporal_attention=False),
    decode_head=dict(
        _delete_=True,
        type='SITSCAMHead',
        in_channels=32,
        num_classes=19,
        bg_threshold=0.35,
        cam_gating='gt'))
