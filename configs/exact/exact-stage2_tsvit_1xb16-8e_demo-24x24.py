# `make demo`, Exact stage 2: the fully supervised demo network trained on
# the pseudo labels (set by tools/run_exact_pipeline.py).
_base_ = ['../tsvit/tsvit_1xb16-8e_demo-24x24.py']
pseudo_label_dir = 'work_dirs/demo/exact/pseudo_labels'
train_dataloader = dict(dataset=dict(pseudo_label_dir=pseudo_label_dir))
