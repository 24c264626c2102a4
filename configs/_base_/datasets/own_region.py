# Your own region, prepared by tools/dataset_converters/scene_to_windows.py
# (windows/*.npz, splits/*.csv, classes.json, norm.json under data_root).
# Classes, palette and bands come from the region's classes.json, the band
# statistics from its norm.json (norm_file is relative to data_root), so
# `data_root` names the region; the model's class count must equal the
# region's (scene_to_windows.py prints the --cfg-options and writes ready
# configs into data_root/configs/). Series of any length: frames are padded
# to max_seq_len and the models mask the padded frames, so a region seen on
# 20 dates and one seen on 60 are treated alike (the PASTIS reproduction
# configs keep the reference's unmasked padding).
dataset_type = 'SITSRegionDataset'
data_root = 'data/own_region'
max_seq_len = 60
train_pipeline = [
    dict(type='LoadSITSSample'),  # image labels from the window files
    dict(type='NormalizeSITS', norm_file='norm.json'),
    dict(type='PadOrCutSequence', max_seq_len=max_seq_len),
    dict(type='AppendDayOfYear'),
    dict(type='PackSITSInputs'),
]
test_pipeline = train_pipeline
train_dataloader = dict(
    batch_size=16,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='train',
        require='truth',
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='val',
        require='truth',
        pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='test',
        require='truth',
        pipeline=test_pipeline))
val_evaluator = dict(type='SITSIoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
