# MTLCC / "Germany" (Russwurm & Koerner 2018; exact-method.md §2.4): gzip
# TFRecord tiles of data_IJGI18 (Zenodo 5712933), read without TensorFlow.
#   data/MTLCC/datasets/full/240/data16/<tile>.tfrecord.gz   24 x 24 tiles
#   data/MTLCC/datasets/full/240/tileids/{train_fold0,eval}.tileids
# TSViT's conversion (whose pickles Exact's Germany numbers use) reads the
# 2016 tiles (data16) of the 240 set, trains on train_fold0 and evaluates on
# eval; data17 (2017) has the same layout. 13 bands (B04,B03,B02,B08 | B05,
# B06,B07,B8A,B11,B12 | B01,B09,B10), 20/60 m bands upsampled bilinearly.
# Labels: 17 crops -> 1..17; MTLCC "unknown" (0) is background class 0,
# which Exact's CAMs need (unknown_as='ignore' maps it to 255 instead, as
# TSViT's supervised protocol does).
dataset_type = 'MTLCCDataset'
data_root = 'data/MTLCC'
tiles = dict(img_path='datasets/full/240/data16')
tileids = 'datasets/full/240/tileids/'
# TSViT's MTLCC setting; tiles hold 10-15 cloud-free dates, so samples are
# padded (frames marked by day of year 0) and longer series subsampled.
max_seq_len = 16
# no void label: MTLCCDataset's metainfo has none (its reader maps unknown)
load = dict(type='LoadSITSSample')
# TSViT scales reflectance by 1e-4 with no centring: mean 0, std 1e4.
norm = dict(type='NormalizeSITS', mean=[0.] * 13, std=[10000.] * 13)
# image-level labels of the 17 crops (Exact's > 1 % rule), before the flips
image_labels = dict(type='GenerateImageLabels', num_classes=17)
train_pipeline = [
    load, norm,
    dict(type='PadOrCutSequence', max_seq_len=max_seq_len,
         random_subsample=True),
    image_labels,
    dict(type='SITSRandomFlip', prob=0.5),  # TSViT's H/V flips
    dict(type='AppendDayOfYear'),
    dict(type='PackSITSInputs'),
]
test_pipeline = [
    load, norm,
    dict(type='PadOrCutSequence', max_seq_len=max_seq_len),
    image_labels,
    dict(type='AppendDayOfYear'),
    dict(type='PackSITSInputs'),
]
train_dataloader = dict(
    batch_size=48,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file=tileids + 'train_fold0.tileids',
        data_prefix=tiles,
        window_size=24,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=24,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file=tileids + 'eval.tileids',
        data_prefix=tiles,
        window_size=24,
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='SITSIoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
