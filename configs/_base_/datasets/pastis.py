# Raw PASTIS layout (metadata.geojson, DATA_S2/, ANNOTATIONS/), cut into the
# PASTIS24 5 x 5 grid of 24 x 24 windows on the fly.
dataset_type = 'PASTISDataset'
data_root = 'data/PASTIS'
max_seq_len = 60
# PASTIS "Fold_1" statistics (NORM_S2_patch.json; bands in S2_BANDS order),
# which TSViT and Exact use for every split
pastis_fold1_norm = dict(
    type='NormalizeSITS',
    mean=[
        1165.9398193359375, 1375.6534423828125, 1429.2191162109375,
        1764.798828125, 2719.273193359375, 3063.61181640625,
        3205.90185546875, 3319.109619140625, 2422.904296875,
        1639.370361328125
    ],
    std=[
        1942.6156005859375, 1881.9234619140625, 1959.3798828125,
        1867.2239990234375, 1754.5850830078125, 1769.4046630859375,
        1784.860595703125, 1767.7100830078125, 1458.963623046875,
        1299.2833251953125
    ])
train_pipeline = [
    dict(type='LoadSITSSample'),
    pastis_fold1_norm,
    dict(type='PadOrCutSequence', max_seq_len=max_seq_len),
    dict(type='GenerateImageLabels', num_classes=18),  # > 1 % rule
    dict(type='AppendDayOfYear'),
    dict(type='PackSITSInputs'),
]
test_pipeline = train_pipeline
window = dict(window_size=24, window_stride=24)
train_dataloader = dict(
    batch_size=48,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        folds=(1, 2, 3),
        pipeline=train_pipeline,
        **window))
val_dataloader = dict(
    batch_size=24,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        folds=(4, ),
        pipeline=test_pipeline,
        **window))
test_dataloader = dict(
    batch_size=24,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        folds=(5, ),
        pipeline=test_pipeline,
        **window))
val_evaluator = dict(type='SITSIoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
