# Vanilla-CAM baseline on the raw PASTIS layout.
_base_ = ['./cam_tsvit_1xb48-20e_pastis24-24x24.py']
_dataset = dict(type='PASTISDataset', data_root='data/PASTIS',
                window_size=24, window_stride=24)
train_dataloader = dict(dataset=_dataset)
val_dataloader = dict(dataset=_dataset)
test_dataloader = dict(dataset=_dataset)
