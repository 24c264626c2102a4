# Schedule of the fully supervised `make demo` networks (that of
# configs/tsvit/tsvit_1xb16-8e_demo-24x24.py): the 100-epoch schedule cut to
# 8 epochs with a 1-epoch warm-up, a global batch of 16, validation and
# checkpoint (best mIoU kept) every 50 iterations. The baselines of
# tools/demo/run_baselines.py all train with it. The warm-up is 1/8 of the
# schedule and the schedule lasts train_cfg.max_epochs, so that setting
# that alone scales both (tools/demo/run_baselines.py --epochs).
_base_ = ['./schedule_100e.py']
max_epochs = 8
param_scheduler = [
    dict(
        type='WarmupCosineEpochLR',
        warmup_ratio=1 / 8,  # 1 epoch of 8
        warmup_start_lr=1e-6,
        eta_min=5e-6,
        begin=0,
        by_epoch=True,
        convert_to_iter_based=True)
]
train_cfg = dict(
    type='IterBasedEpochTrainLoop',
    max_epochs=max_epochs,
    val_interval=50,
    base_batch_size=16)  # 1 process x 16
auto_scale_lr = dict(base_batch_size=16)
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=50, max_keep_ckpts=1, save_best='mIoU'))
