# Exact stage 2 on the raw PASTIS layout (pseudo labels read by
# LoadPseudoLabel, see exact-stage2_tsvit_1xb48-100e_pastis24-24x24.py).
_base_ = ['../tsvit/tsvit_1xb48-100e_pastis-24x24.py']
pseudo_label_dir = 'work_dirs/exact_tsvit_pastis-raw/pseudo_labels'
train_pipeline = [
    dict(type='LoadSITSSample'),
    _base_.pastis_fold1_norm,
    dict(type='PadOrCutSequence', max_seq_len=60),
    dict(type='GenerateImageLabels', num_classes=18),
    dict(type='AppendDayOfYear'),
    dict(type='LoadPseudoLabel', pseudo_label_dir=pseudo_label_dir),
    dict(type='PackSITSInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
