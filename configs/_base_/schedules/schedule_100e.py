# Stage-2 / fully supervised schedule of the reference (exact-method.md
# §8.2): AdamW 1e-3, wd 0, 100 epochs, linear warm-up over 10 epochs from
# 1e-8, cosine to 5e-6 (phase from epoch 0), LR constant within an epoch;
# evaluation and checkpoint every 2000 iterations. The scheduler has no
# `end`: it lasts train_cfg.max_epochs (the Runner's default), so setting
# that alone changes the cosine's length; the warm-up stays 10 epochs.
# Iteration counts refer to a global batch of `base_batch_size` (see
# schedule_exact_20e.py).
max_epochs = 100
base_batch_size = 48
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(
        type='AdamW', lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
        weight_decay=0.),
    clip_grad=None)
param_scheduler = [
    dict(
        type='WarmupCosineEpochLR',
        warmup_epochs=10,
        warmup_start_lr=1e-8,
        eta_min=5e-6,
        begin=0,
        by_epoch=True,
        convert_to_iter_based=True)
]
train_cfg = dict(
    type='IterBasedEpochTrainLoop',
    max_epochs=max_epochs,
    val_interval=2000,
    base_batch_size=base_batch_size)
auto_scale_lr = dict(enable=False, base_batch_size=base_batch_size)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='CheckpointHook',
        by_epoch=False,
        interval=2000,
        save_best='mIoU',
        rule='greater'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SITSVisualizationHook', draw=False))
