# BiConvGRU (Russwurm & Koerner, ISPRS IJGI 2018; "BiCGRU" in the TSViT
# paper): 3x3 frame embedding to 64, a forward and a backward ConvGRU of
# 256, final hidden states concatenated (512 channels). FCNHead without
# convolutions gives a 1x1 classifier (the paper's is 3x3): 4,440,787
# parameters with 19 classes (published network: 4,523,220).
data_preprocessor = dict(type='SITSDataPreProcessor')
model = dict(
    type='SITSEncoderDecoder',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='BiConvGRU',
        in_channels=10,
        embed_channels=64,
        hidden_channels=256,
        kernel_size=3),
    decode_head=dict(
        type='FCNHead',
        in_channels=512,
        in_index=0,
        channels=512,
        num_convs=0,
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
