# U-TAE (Garnot & Landrieu, ICCV 2021) at its published PASTIS
# configuration: encoder 64, 64, 64, 128 (group norm), decoder 32, 32, 64,
# 128 (batch norm), L-TAE with 16 heads, d_k 4, d_model 256, MLP 256 -> 128,
# attention-weighted skip connections per head group, reflect padding.
# mmseg's stock FCNHead takes the role of U-TAE's output convolutions
# (3x3 32 -> 32, then the classifier; 1x1 here instead of 3x3).
# 1,082,035 parameters with 19 classes (the published network: 1,087,260
# with its 20 output channels and 3x3 classifier; tests/test_models/
# test_sits_backbones.py).
_base_ = ['./sits_fcn.py']
model = dict(
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
        in_channels=32,
        channels=32,
        num_convs=1,
        kernel_size=3,
        norm_cfg=dict(type='BN', requires_grad=True)))
