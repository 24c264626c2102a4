# The miniature of `make demo` (`tools/demo/run_demo.py --mini`), fully
# supervised TSViT: the demo network with a one-layer temporal encoder on
# the mini data (16 frames, 1 process x 8 samples from one endless shuffled
# stream), LR 3e-3, 20 epochs (160 iterations) with a 1-epoch warm-up,
# validation and checkpoint every 80 iterations. Exact's stage-2 mini
# (configs/exact/exact-stage2_tsvit_1xb8-20e_demo-mini-24x24.py) is this
# network trained on pseudo labels.
_base_ = ['./tsvit_1xb16-8e_demo-24x24.py']
data_root = 'data/demo/synthetic_pastis_mini'
max_seq_len = 16
train_pipeline = [
    dict(type='LoadSITSSample'),
    dict(
        type='NormalizeSITS',
        norm_file=data_root + '/NORM_S2_patch.json',
        folds=(1, 2, 3)),
    dict(type='PadOrCutSequence', max_seq_len=max_seq_len),
    dict(type='GenerateImageLabels', num_classes=18),
    dict(type='AppendDayOfYear'),
    dict(type='PackSITSInputs'),
]
test_pipeline = train_pipeline
train_dataloader = dict(
    batch_size=8,
    sampler=dict(type='InfiniteSampler'),
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = dict(
    dataset=dict(data_root=data_root, pipeline=test_pipeline))
model = dict(backbone=dict(temporal_depth=1))
optim_wrapper = dict(optimizer=dict(lr=3e-3))
max_epochs = 20
param_scheduler = [
    dict(
        type='WarmupCosineEpochLR',
        warmup_epochs=1,
        warmup_start_lr=1e-6,
        eta_min=5e-6,
        begin=0,
        by_epoch=True,
        convert_to_iter_based=True)
]
train_cfg = dict(max_epochs=max_epochs, val_interval=80, base_batch_size=8)
auto_scale_lr = dict(base_batch_size=8)
default_hooks = dict(checkpoint=dict(interval=80))
