default_scope = 'mmseg'
custom_imports = dict(imports=['mmexact'], allow_failed_imports=False)
env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)
# add dict(type='TensorboardVisBackend') (or WandbVisBackend) to also send
# the drawn samples and the scalars there
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(
    type='SITSLocalVisualizer', vis_backends=vis_backends, name='visualizer')
log_processor = dict(by_epoch=False)
log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0)
tta_model = dict(type='SegTTAModel')
# stop at the first NaN/Inf loss (naming the batch) instead of saving NaNs;
# store the random generators in checkpoints so --resume continues exactly;
# give modules their training step in base-batch iterations (Exact's
# prototype warm-up) and check the schedule reaches it;
# let glibc reuse freed memory (1.4x faster CPU training, see the README);
# store the data contract (bands, normalisation statistics, max_seq_len,
# window) in checkpoints, so that they map without the training files
# (tools/train.py adds it to configs whose own custom_hooks lack it)
custom_hooks = [
    dict(type='NonFiniteLossHook'),
    dict(type='RNGStateHook'),
    dict(type='SITSTrainStepHook'),
    dict(type='MallocTuningHook'),
    dict(type='DataContractHook')
]
