# The miniature of `make demo` (`tools/demo/run_demo.py --mini`,
# tests/test_tools/test_demo_mini.py), Exact stage 1: the demo network on
# the mini data (24 patches of 48 x 48 pixels, 12-16 dates), 16 frames,
# 1 process x 8 samples from one endless shuffled stream (MMEngine pauses at
# the end of every pass over the data), 20 epochs (160 iterations) with a
# 2-epoch warm-up, prototypes from step 60, a checkpoint every 20 steps.
# The vanilla-CAM mini (configs/cam/cam_tsvit_1xb8-20e_demo-mini-24x24.py)
# has the same schedule and data.
_base_ = ['./exact_tsvit_1xb16-8e_demo-24x24.py']
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
max_epochs = 20
param_scheduler = [
    dict(
        type='WarmupCosineEpochLR',
        warmup_epochs=2,
        warmup_start_lr=5e-6,
        eta_min=5e-6,
        begin=0,
        by_epoch=True,
        convert_to_iter_based=True)
]
train_cfg = dict(max_epochs=max_epochs, base_batch_size=8)
auto_scale_lr = dict(base_batch_size=8)
default_hooks = dict(checkpoint=dict(interval=20))
model = dict(decode_head=dict(proto_start_iter=60))
stage2_config = 'exact-stage2_tsvit_1xb8-20e_demo-mini-24x24.py'
