# Raw PASTIS layout (metadata.geojson, DATA_S2/, ANNOTATIONS/), cut into the
# PASTIS24 5 x 5 grid of 24 x 24 windows on the fly.
_base_ = ['./pastis_fold1_norm.py']
dataset_type = 'PASTISDataset'
data_root = 'data/PASTIS'
max_seq_len = 60
train_pipeline = [
    dict(type='LoadSITSSample'),
    {{_base_.pastis_fold1_norm}},  # PASTIS Fold_1 statistics
    dict(type='PadOrCutSequence', max_seq_len=max_seq_len),
    dict(type='GenerateImageLabels', num_classes=18),  # > 1 % rule
    dict(type='AppendDayOfYear'),
    dict(type='PackSITSInputs'),
]
test_pipeline = train_pipeline
window = dict(window_size=24, window_stride=24)
train_dataloader = dict(
    batch_size=48,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        folds=(1, 2, 3),
        pipeline=train_pipeline,
        **window))
val_dataloader = dict(
    batch_size=24,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        folds=(4, ),
        pipeline=test_pipeline,
        **window))
test_dataloader = dict(
    batch_size=24,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        folds=(5, ),
        pipeline=test_pipeline,
        **window))
val_evaluator = dict(type='SITSIoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
