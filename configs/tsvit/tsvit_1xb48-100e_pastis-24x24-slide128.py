# Train on 24 x 24 windows of raw PASTIS, test on whole 128 x 128 patches by
# slide inference (24 x 24 crops, stride 16, overlapping logits averaged).
_base_ = ['./tsvit_1xb48-100e_pastis-24x24.py']
model = dict(test_cfg=dict(mode='slide', crop_size=(24, 24), stride=(16, 16)))
test_dataloader = dict(
    batch_size=1,
    dataset=dict(window_size=None, window_stride=None))
