# Stage-1 (classification) schedule of Exact (exact-method.md §3.6): AdamW
# 1e-3, wd 0, 20 epochs, linear warm-up over 3 epochs from 5e-6, cosine to
# 5e-6 (phase from epoch 0), LR constant within an epoch; monitoring and a
# checkpoint every 1000 iterations, all checkpoints kept (the CAM sweep
# evaluates several). The scheduler has no `end`: it lasts
# train_cfg.max_epochs (the Runner's default), so setting that alone changes
# the cosine's length; the warm-up stays 3 epochs.
# Iteration counts (here and the head's proto_start_iter) are iterations
# of a global batch of `base_batch_size` samples (the reference: 48 = 8 GPUs
# x 6); IterBasedEpochTrainLoop converts them when world size x batch
# differs, so they mean the same number of samples on any number of GPUs.
max_epochs = 20
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
        warmup_epochs=3,
        warmup_start_lr=5e-6,
        eta_min=5e-6,
        begin=0,
        by_epoch=True,
        convert_to_iter_based=True)
]
train_cfg = dict(
    type='IterBasedEpochTrainLoop',
    max_epochs=max_epochs,
    val_interval=1000,
    base_batch_size=base_batch_size)
# the learning rate is that of the reference's 48-sample batch; set
# enable=True to scale it linearly with another global batch
auto_scale_lr = dict(enable=False, base_batch_size=base_batch_size)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=1000),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # CAM segmentors: tools/test.py --show-dir also draws the CAM of every
    # class of the window's image labels
    visualization=dict(
        type='SITSVisualizationHook', draw=False, draw_cams=True))
