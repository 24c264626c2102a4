# `make demo-region` (tools/demo/run_own_region_demo.py), Exact stage 1 on
# the synthetic georeferenced region from its image-label cells only: the
# `make demo` network (d 32, depths 2 + 1), 40 epochs of the training
# blocks with a 4-epoch warm-up, prototypes from step 100, frames padded
# to 32 and masked, a checkpoint every 25 steps.
_base_ = ['./exact_tsvit_1xb16-20e_own-region-24x24.py']
max_epochs = 40
max_seq_len = 32
model = dict(
    backbone=dict(
        embed_dims=32, temporal_depth=2, spatial_depth=1, num_heads=4,
        head_dims=8, ffn_dims=64),
    decode_head=dict(in_channels=32, proto_start_iter=100, chunk_size=8))
train_pipeline = [
    dict(type='LoadSITSSample'),
    dict(type='NormalizeSITS', norm_file='norm.json'),
    dict(type='PadOrCutSequence', max_seq_len=max_seq_len),
    dict(type='AppendDayOfYear'),
    dict(type='PackSITSInputs'),
]
in_process = dict(num_workers=0, persistent_workers=False)
train_dataloader = dict(
    **in_process,
    sampler=dict(type='InfiniteSampler'),
    dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(**in_process, dataset=dict(pipeline=train_pipeline))
test_dataloader = dict(**in_process, dataset=dict(pipeline=train_pipeline))
param_scheduler = [
    dict(
        type='WarmupCosineEpochLR',
        warmup_ratio=1 / 10,
        warmup_start_lr=5e-6,
        eta_min=5e-6,
        begin=0,
        by_epoch=True,
        convert_to_iter_based=True)
]
train_cfg = dict(max_epochs=max_epochs)
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=25, max_keep_ckpts=4))
stage2_config = 'exact-stage2_tsvit_1xb16-40e_demo-region-24x24.py'
