# `make demo`, Exact stage 2: the fully supervised demo network trained on
# the pseudo labels (LoadPseudoLabel; tools/exact/run_exact_pipeline.py points it
# at the pipeline's pseudo-label folder). The training pipeline is the
# demo's with LoadPseudoLabel before packing.
_base_ = ['../tsvit/tsvit_1xb16-8e_demo-24x24.py']
pseudo_label_dir = 'work_dirs/demo/exact/pseudo_labels'
train_pipeline = [
    dict(type='LoadSITSSample'),
    dict(
        type='NormalizeSITS',
        norm_file='data/demo/synthetic_pastis/NORM_S2_patch.json',
        folds=(1, 2, 3)),
    dict(type='PadOrCutSequence', max_seq_len=28),
    dict(type='GenerateImageLabels', num_classes=18),
    dict(type='AppendDayOfYear'),
    dict(type='LoadPseudoLabel', pseudo_label_dir=pseudo_label_dir),
    dict(type='PackSITSInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
