# `make demo`, fully supervised TSViT on the synthetic PASTIS data (the
# upper bound for Exact's stage 2): same small network as the stage-2 demo.
_base_ = [
    '../_base_/models/tsvit_seg.py',
    '../_base_/datasets/synthetic_pastis_demo.py',
    '../_base_/schedules/schedule_100e.py', '../_base_/default_runtime.py'
]
max_epochs = 8
model = dict(
    backbone=dict(
        embed_dims=32, temporal_depth=2, spatial_depth=1, num_heads=4,
        head_dims=8, ffn_dims=64),
    # the corrected pixel layout learns much faster in a short schedule
    decode_head=dict(in_channels=32, legacy_unpatchify=False))
param_scheduler = [
    dict(
        type='WarmupCosineEpochLR',
        warmup_epochs=1,
        warmup_start_lr=1e-6,
        eta_min=5e-6,
        begin=0,
        end=max_epochs,
        by_epoch=True,
        convert_to_iter_based=True)
]
train_cfg = dict(
    type='IterBasedEpochTrainLoop',
    max_epochs=max_epochs,
    val_interval=50,
    base_batch_size=16)  # the demo's global batch: 1 process x 16
auto_scale_lr = dict(base_batch_size=16)
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=50, max_keep_ckpts=1, save_best='mIoU'))
