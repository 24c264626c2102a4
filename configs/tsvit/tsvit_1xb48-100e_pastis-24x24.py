# Fully supervised TSViT on the raw PASTIS layout, cut into the same 24 x 24
# windows as PASTIS24 on the fly (identical samples, no preprocessing).
_base_ = [
    '../_base_/models/tsvit_seg.py', '../_base_/datasets/pastis.py',
    '../_base_/schedules/schedule_100e.py', '../_base_/default_runtime.py'
]
