# The synthetic PASTIS data of `make demo` (written by
# tools/dataset_converters/make_synthetic_pastis.py in the raw PASTIS
# layout), cut into 24 x 24 windows on the fly. Train folds 1-3, val fold 4,
# test fold 5; normalised with the statistics of the training folds.
dataset_type = 'PASTISDataset'
data_root = 'data/demo/synthetic_pastis'
max_seq_len = 28
train_pipeline = [
    dict(type='LoadSITSSample'),
    dict(
        type='NormalizeSITS',
        norm_file=data_root + '/NORM_S2_patch.json',
        folds=(1, 2, 3)),
    dict(type='PadOrCutSequence', max_seq_len=max_seq_len),
    dict(type='AppendDayOfYear'),
    dict(type='PackSITSInputs'),
]
test_pipeline = train_pipeline
window = dict(window_size=24, window_stride=24)
train_dataloader = dict(
    batch_size=16,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        folds=(1, 2, 3),
        pipeline=train_pipeline,
        **window))
val_dataloader = dict(
    batch_size=32,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        folds=(4, ),
        pipeline=test_pipeline,
        **window))
test_dataloader = dict(
    batch_size=32,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        folds=(5, ),
        pipeline=test_pipeline,
        **window))
val_evaluator = dict(type='SITSIoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
