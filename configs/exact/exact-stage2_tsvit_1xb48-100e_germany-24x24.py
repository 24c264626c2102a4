# Exact, stage 2 on MTLCC / Germany: the TSViT segmentation network trained
# on the pseudo labels of train_fold0 written by
# tools/generate_pseudo_labels.py, evaluated on the ground truth of eval.
#   python tools/train.py configs/exact/exact-stage2_tsvit_1xb48-100e_germany-24x24.py \
#       --cfg-options train_dataloader.dataset.pseudo_label_dir=DIR
_base_ = ['../tsvit/tsvit_1xb48-100e_germany-24x24.py']
pseudo_label_dir = 'work_dirs/exact_tsvit_germany/pseudo_labels'
train_dataloader = dict(dataset=dict(pseudo_label_dir=pseudo_label_dir))
