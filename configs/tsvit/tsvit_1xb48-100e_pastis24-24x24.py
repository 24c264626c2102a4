# Fully supervised TSViT on PASTIS24 (exact-method.md §8): train folds 1-3,
# validate on fold 4 (the reference's only evaluation fold), test on fold 5.
_base_ = [
    '../_base_/models/tsvit_seg.py', '../_base_/datasets/pastis24.py',
    '../_base_/schedules/schedule_100e.py', '../_base_/default_runtime.py'
]
