# Exact, stage 2: the TSViT segmentation network (§8) trained on the pseudo
# labels written by tools/exact/generate_pseudo_labels.py (folds 1-3; read by
# LoadPseudoLabel), evaluated on the ground truth of fold 4 (val, the
# reference's protocol) and fold 5 (test).
#   python tools/train.py \
#       configs/exact/exact-stage2_tsvit_1xb48-100e_pastis24-24x24.py \
#       --cfg-options train_dataloader.dataset.pipeline.5.pseudo_label_dir=DIR
_base_ = ['../tsvit/tsvit_1xb48-100e_pastis24-24x24.py']
pseudo_label_dir = 'work_dirs/exact_tsvit_pastis/pseudo_labels'
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
