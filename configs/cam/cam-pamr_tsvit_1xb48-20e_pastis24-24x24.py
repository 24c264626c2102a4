# CAM + PAMR: the vanilla-CAM baseline whose CAMs are refined in
# `predict` (and by tools/exact/generate_pseudo_labels.py) with pixel-adaptive mask
# refinement (Araslanov & Roth, CVPR 2020). SITS guide: the normalised
# bands of all valid dates stacked as channels, so that the affinities
# follow the whole season (padded dates never enter); the CAMs are
# upsampled to the window first and replaced by the refined ones (mix 1).
# Training is the vanilla CAM's (PAMR has no parameters): a vanilla-CAM
# checkpoint can be evaluated as is.
_base_ = ['./cam_tsvit_1xb48-20e_pastis24-24x24.py']
model = dict(
    decode_head=dict(
        cam_refiner=dict(
            type='PAMR', dilations=(1, 2), num_iters=10, alpha=0.1),
        cam_refiner_guide='bands',
        cam_refiner_mix=1.0))
