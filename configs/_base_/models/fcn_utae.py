# U-TAE (Garnot & Landrieu, ICCV 2021) at its published PASTIS
# configuration: encoder 64, 64, 64, 128 (group norm), decoder 32, 32, 64,
# 128 (batch norm), L-TAE with 16 heads, d_k 4, d_model 256, MLP 256 -> 128,
# attention-weighted skip connections per head group, reflect padding.
# mmseg's stock FCNHead takes the role of U-TAE's output convolutions
# (3x3 32 -> 32, then the classifier; 1x1 here instead of 3x3).
# 1,082,035 parameters with 19 classes (the published network: 1,087,260
# with its 20 output channels and 3x3 classifier; tests/test_models/
# test_sits_backbones.py).
data_preprocessor = dict(type='SITSDataPreProcessor')
model = dict(
    type='SITSEncoderDecoder',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='UTAE',
        in_channels=10,
        encoder_widths=(64, 64, 64, 128),
        decoder_widths=(32, 32, 64, 128),
        ltae=dict(
            embed_dims=256, num_heads=16, key_dims=4, mlp_channels=(256, ),
            dropout=0.2),
        skip_aggregation='att_group',
        encoder_norm_cfg=dict(type='GN', num_groups=4),
        decoder_norm_cfg=dict(type='BN'),
        padding_mode='reflect',
        out_indices=(0, )),
    decode_head=dict(
        type='FCNHead',
        in_channels=32,
        in_index=0,
        channels=32,
        num_convs=1,
        kernel_size=3,
        concat_input=False,
        dropout_ratio=0.,
        num_classes=19,
        norm_cfg=dict(type='BN', requires_grad=True),
        align_corners=False,
        ignore_index=255,
        loss_decode=dict(
            type='CrossEntropyLoss',
            use_sigmoid=False,
            loss_weight=1.0,
            avg_non_ignore=True)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
