# Exact, stage 1 on MTLCC / Germany: the classification network trained from
# image-level labels (17 crop classes, > 1 % of the window) on train_fold0;
# CAMs over background + 17 crops. Same recipe as PASTIS otherwise
# (exact_tsvit_1xb48-20e_pastis24-24x24.py).
#   python tools/train.py configs/exact/exact_tsvit_1xb48-20e_germany-24x24.py
#   python tools/test.py  configs/exact/exact_tsvit_1xb48-20e_germany-24x24.py CKPT
# `tools/test.py` measures CB-CAM mIoU on the *training* tiles (the WSSS
# protocol); `tools/exact/generate_pseudo_labels.py` writes the stage-2 labels.
_base_ = [
    '../_base_/models/exact_tsvit.py', '../_base_/datasets/mtlcc.py',
    '../_base_/schedules/schedule_exact_20e.py',
    '../_base_/default_runtime.py'
]
# Exact's components (mmexact.exact) are outside the generic core
custom_imports = dict(
    imports=['mmexact', 'mmexact.exact'], allow_failed_imports=False)
model = dict(
    backbone=dict(in_channels=13, num_tokens=17),
    decode_head=dict(num_classes=18))
train_dataloader = dict(batch_size=48)
val_dataloader = dict(batch_size=64)
test_dataloader = dict(
    batch_size=64,
    dataset=dict(ann_file='datasets/full/240/tileids/train_fold0.tileids'))
val_evaluator = [
    dict(type='SITSIoUMetric', iou_metrics=['mIoU']),
    dict(type='mmpretrain.AveragePrecision'),
    dict(type='mmpretrain.MultiLabelMetric', items=('f1-score', ),
         average=None, prefix='per-class'),
    dict(type='mmpretrain.MultiLabelMetric', items=('precision', 'recall',
                                                    'f1-score')),
]
test_evaluator = dict(type='SITSIoUMetric', iou_metrics=['mIoU'])
# stage-2 config used by tools/exact/run_exact_pipeline.py (relative to this file)
stage2_config = 'exact-stage2_tsvit_1xb48-100e_germany-24x24.py'
