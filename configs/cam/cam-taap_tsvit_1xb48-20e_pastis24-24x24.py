# CAM + TAAP: the vanilla-CAM baseline whose CAMs are refined in
# `predict` (and by tools/exact/generate_pseudo_labels.py) with Exact's
# temporal-aware affinity propagation: TemporalAffinityRefiner guided by the
# temporal clue V (class-specific attention-weighted mean of the frame
# tokens, hence with_temporal_attention), (C + TAAP(V, C)) / 2 as for
# Exact's CB-CAMs. Training is the vanilla CAM's (the refiner has no
# parameters): a vanilla-CAM checkpoint can be evaluated as is.
_base_ = ['./cam_tsvit_1xb48-20e_pastis24-24x24.py']
model = dict(
    backbone=dict(with_temporal_attention=True),
    decode_head=dict(
        cam_refiner=dict(
            type='TemporalAffinityRefiner', dilations=(2, ), num_iters=3,
            alpha=0.3),
        cam_refiner_guide='temporal_clue',
        cam_refiner_mix=0.5))
