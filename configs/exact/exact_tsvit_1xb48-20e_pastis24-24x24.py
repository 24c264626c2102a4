# Exact, stage 1: train the classification network from image-level labels
# only (PASTIS24, train folds 1-3, batch 48, 20 epochs) and monitor on fold 4.
#   python tools/train.py configs/exact/exact_tsvit_pastis.py
#   python tools/test.py  configs/exact/exact_tsvit_pastis.py CKPT
# `tools/test.py` measures CB-CAM quality as mIoU on the *training* folds
# against their pixel labels (the WSSS protocol of the reference, §7.3);
# `tools/generate_pseudo_labels.py` sweeps the background threshold and
# writes the stage-2 pseudo labels.
_base_ = [
    '../_base_/models/exact_tsvit.py', '../_base_/datasets/pastis24.py',
    '../_base_/schedules/schedule_exact_20e.py',
    '../_base_/default_runtime.py'
]
train_dataloader = dict(batch_size=48)
val_dataloader = dict(batch_size=64)
test_dataloader = dict(batch_size=64, dataset=dict(folds=(1, 2, 3)))
# CAM mIoU next to mmpretrain's multi-label metrics of the classifier
val_evaluator = [
    dict(type='SITSIoUMetric', iou_metrics=['mIoU']),
    dict(type='mmpretrain.AveragePrecision'),
    dict(type='mmpretrain.MultiLabelMetric', items=('f1-score', ),
         average=None, prefix='per-class'),
    dict(type='mmpretrain.MultiLabelMetric', items=('precision', 'recall',
                                                    'f1-score')),
]
test_evaluator = dict(type='SITSIoUMetric', iou_metrics=['mIoU'])
# prototypes are unused before the warm-up iteration ('grad' mode)
model_wrapper_cfg = dict(
    type='MMDistributedDataParallel', find_unused_parameters=True)
# stage-2 config used by tools/run_exact_pipeline.py (relative to this file)
stage2_config = 'exact-stage2_tsvit_pastis24-24x24.py'
