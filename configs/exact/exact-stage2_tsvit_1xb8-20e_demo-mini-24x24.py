# The miniature of `make demo` (`tools/demo/run_demo.py --mini`), Exact stage 2:
# the fully supervised mini network (configs/tsvit/tsvit_1xb8-20e_demo-mini-
# 24x24.py) trained on the pseudo labels (LoadPseudoLabel;
# tools/exact/run_exact_pipeline.py points it at the pipeline's pseudo-label
# folder).
_base_ = ['../tsvit/tsvit_1xb8-20e_demo-mini-24x24.py']
pseudo_label_dir = 'work_dirs/demo-mini/exact/pseudo_labels'
train_pipeline = [
    dict(type='LoadSITSSample'),
    dict(
        type='NormalizeSITS',
        norm_file='data/demo/synthetic_pastis_mini/NORM_S2_patch.json',
        folds=(1, 2, 3)),
    dict(type='PadOrCutSequence', max_seq_len=16),
    dict(type='GenerateImageLabels', num_classes=18),
    dict(type='AppendDayOfYear'),
    dict(type='LoadPseudoLabel', pseudo_label_dir=pseudo_label_dir),
    dict(type='PackSITSInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
