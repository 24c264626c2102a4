# A SITS backbone under mmseg's stock FCNHead: the segmentor, the
# preprocessor and the head shared by the fully supervised baselines
# (fcn_*.py set the backbone and the head's width).
data_preprocessor = dict(type='SITSDataPreProcessor')
model = dict(
    type='SITSEncoderDecoder',
    data_preprocessor=data_preprocessor,
    decode_head=dict(
        type='FCNHead',
        in_index=0,
        concat_input=False,
        dropout_ratio=0.,
        num_classes=19,
        align_corners=False,
        ignore_index=255,
        loss_decode=dict(
            type='CrossEntropyLoss',
            use_sigmoid=False,
            loss_weight=1.0,
            avg_non_ignore=True)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
