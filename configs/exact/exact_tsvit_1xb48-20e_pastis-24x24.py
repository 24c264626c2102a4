# Exact stage 1 on the raw PASTIS layout (windows cut on the fly), 1 GPU x 48.
_base_ = ['./exact_tsvit_1xb48-20e_pastis24-24x24.py']
_dataset = dict(type='PASTISDataset', data_root='data/PASTIS',
                window_size=24, window_stride=24)
train_dataloader = dict(dataset=_dataset)
val_dataloader = dict(dataset=_dataset)
test_dataloader = dict(dataset=_dataset)
stage2_config = 'exact-stage2_tsvit_1xb48-100e_pastis-24x24.py'
