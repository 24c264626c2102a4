# PASTIS24 (TSViT / Exact layout): pickle24x24/*.pickle + fold-paths/*.csv.
# Split of the reference (rotation 1): train folds 1-3, val fold 4, test 5.
_base_ = ['./pastis_fold1_norm.py']
dataset_type = 'PASTIS24Dataset'
data_root = 'data/PASTIS24'
max_seq_len = 60
train_pipeline = [
    dict(type='LoadSITSSample'),
    {{_base_.pastis_fold1_norm}},  # PASTIS Fold_1 statistics
    dict(type='PadOrCutSequence', max_seq_len=max_seq_len),
    dict(type='GenerateImageLabels', num_classes=18),  # > 1 % rule
    dict(type='AppendDayOfYear'),
    dict(type='PackSITSInputs'),
]
test_pipeline = train_pipeline  # the reference uses no augmentation
train_dataloader = dict(
    batch_size=48,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        folds=(1, 2, 3),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=24,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        folds=(4, ),
        pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=24,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        folds=(5, ),
        pipeline=test_pipeline))
val_evaluator = dict(type='SITSIoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
