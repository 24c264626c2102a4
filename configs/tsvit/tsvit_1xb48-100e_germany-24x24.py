# Fully supervised TSViT on MTLCC / Germany (24 x 24 tiles of data16): 13
# bands, 18 classes (background/unknown + 17 crops), train on train_fold0,
# validate and test on eval (TSViT's protocol).
_base_ = [
    '../_base_/models/tsvit_seg.py', '../_base_/datasets/mtlcc.py',
    '../_base_/schedules/schedule_100e.py', '../_base_/default_runtime.py'
]
model = dict(
    backbone=dict(in_channels=13, num_tokens=18),
    decode_head=dict(num_classes=18))
