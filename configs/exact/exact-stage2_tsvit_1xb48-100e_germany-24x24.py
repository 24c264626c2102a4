# Exact, stage 2 on MTLCC / Germany: the TSViT segmentation network trained
# on the pseudo labels of train_fold0 written by
# tools/exact/generate_pseudo_labels.py (read by LoadPseudoLabel, before the
# flips), evaluated on the ground truth of eval.
#   python tools/train.py \
#       configs/exact/exact-stage2_tsvit_1xb48-100e_germany-24x24.py \
#       --cfg-options train_dataloader.dataset.pipeline.4.pseudo_label_dir=DIR
_base_ = ['../tsvit/tsvit_1xb48-100e_germany-24x24.py']
pseudo_label_dir = 'work_dirs/exact_tsvit_germany/pseudo_labels'
train_pipeline = [
    _base_.load,
    _base_.norm,
    dict(type='PadOrCutSequence', max_seq_len=16, random_subsample=True),
    _base_.image_labels,
    dict(
        type='LoadPseudoLabel', pseudo_label_dir=pseudo_label_dir,
        num_classes=18),
    dict(type='SITSRandomFlip', prob=0.5),
    dict(type='AppendDayOfYear'),
    dict(type='PackSITSInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
