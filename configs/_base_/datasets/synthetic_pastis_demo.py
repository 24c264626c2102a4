# The synthetic PASTIS data of `make demo` (written by
# tools/dataset_converters/make_synthetic_pastis.py in the raw PASTIS
# layout), cut into 24 x 24 windows on the fly. The raw-PASTIS set-up
# (train folds 1-3, val fold 4, test fold 5) with the demo's root, 28
# frames, normalisation by the statistics of the training folds and
# in-process loading.
_base_ = ['./pastis.py']
data_root = 'data/demo/synthetic_pastis'
max_seq_len = 28
train_pipeline = [
    dict(type='LoadSITSSample'),
    dict(
        type='NormalizeSITS',
        norm_file=data_root + '/NORM_S2_patch.json',
        folds=(1, 2, 3)),
    dict(type='PadOrCutSequence', max_seq_len=max_seq_len),
    dict(type='GenerateImageLabels', num_classes=18),
    dict(type='AppendDayOfYear'),
    dict(type='PackSITSInputs'),
]
test_pipeline = train_pipeline
in_process = dict(num_workers=0, persistent_workers=False)
train_dataloader = dict(
    batch_size=16,
    **in_process,
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32,
    **in_process,
    dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
