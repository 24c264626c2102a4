# `make demo`, Exact stage 1 on the synthetic PASTIS data, 1 GPU (or CPU
# process) x 16 samples: a small TSViT (d 32, depths 2 + 1), 8 epochs,
# prototype learning from step 100 (of 16-sample batches). Prototype
# statistics per 8 samples, so 2 processes x 8 train the same model. The LR
# warm-up is 1/8 of the schedule, which lasts train_cfg.max_epochs.
_base_ = [
    '../_base_/models/exact_tsvit.py',
    '../_base_/datasets/synthetic_pastis_demo.py',
    '../_base_/schedules/schedule_exact_20e.py',
    '../_base_/default_runtime.py'
]
# Exact's components (mmexact.exact) are outside the generic core
custom_imports = dict(
    imports=['mmexact', 'mmexact.exact'], allow_failed_imports=False)
max_epochs = 8
model = dict(
    backbone=dict(
        embed_dims=32, temporal_depth=2, spatial_depth=1, num_heads=4,
        head_dims=8, ffn_dims=64),
    decode_head=dict(in_channels=32, proto_start_iter=100, chunk_size=8))
# CAM quality is measured on the training folds (the reference protocol)
test_dataloader = dict(dataset=dict(folds=(1, 2, 3)))
param_scheduler = [
    dict(
        type='WarmupCosineEpochLR',
        warmup_ratio=1 / 8,  # 1 epoch of 8
        warmup_start_lr=5e-6,
        eta_min=5e-6,
        begin=0,
        by_epoch=True,
        convert_to_iter_based=True)
]
train_cfg = dict(
    type='IterBasedEpochTrainLoop',
    max_epochs=max_epochs,
    val_interval=100000,
    base_batch_size=16)
auto_scale_lr = dict(base_batch_size=16)
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=50, max_keep_ckpts=3))
stage2_config = 'exact-stage2_tsvit_1xb16-8e_demo-24x24.py'
