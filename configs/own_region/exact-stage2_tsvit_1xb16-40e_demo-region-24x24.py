# `make demo-region`, Exact stage 2: the fully supervised demo-region
# network trained on the pseudo labels of the image-labelled training
# windows (tools/exact/run_exact_pipeline.py sets pseudo_label_dir).
_base_ = ['./tsvit_1xb16-40e_demo-region-24x24.py']
pseudo_label_dir = 'work_dirs/own_region/exact/pseudo_labels'
train_pipeline = [
    dict(type='LoadSITSSample'),
    dict(type='NormalizeSITS', norm_file='norm.json'),
    dict(type='PadOrCutSequence', max_seq_len=32),
    dict(type='AppendDayOfYear'),
    dict(type='LoadPseudoLabel', pseudo_label_dir=pseudo_label_dir),
    dict(type='PackSITSInputs'),
]
train_dataloader = dict(
    dataset=dict(require='image_labels', pipeline=train_pipeline))
