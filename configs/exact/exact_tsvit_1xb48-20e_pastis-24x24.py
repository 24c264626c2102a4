# Exact stage 1 on the raw PASTIS layout (windows cut on the fly).
_base_ = ['./exact_tsvit_pastis.py']
_dataset = dict(type='PASTISDataset', data_root='data/PASTIS',
                window_size=24, window_stride=24)
train_dataloader = dict(dataset=_dataset)
val_dataloader = dict(dataset=_dataset)
test_dataloader = dict(dataset=_dataset)
stage2_config = 'exact-stage2_tsvit_pastis-raw.py'
