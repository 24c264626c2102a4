# Exact stage 2 on the raw PASTIS layout.
_base_ = ['../tsvit/tsvit_1xb48-100e_pastis-24x24.py']
pseudo_label_dir = 'work_dirs/exact_tsvit_pastis-raw/pseudo_labels'
train_dataloader = dict(dataset=dict(pseudo_label_dir=pseudo_label_dir))
