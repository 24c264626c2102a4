# FPN + ConvLSTM (Martinez et al., ISPRS J. 2021) as in the PASTIS
# benchmark: stem 32, 64; feature pyramid of 4 levels x 64 (dilations 1, 2,
# 4 and a global max); 3x3 to 128; ConvLSTM 88 at full resolution, final
# cell state. FCNHead without convolutions is the paper's 1x1 classifier:
# 1,150,939 parameters with 19 classes (published network: 1,151,028).
_base_ = ['./sits_fcn.py']
model = dict(
    backbone=dict(
        type='FPNConvLSTM',
        in_channels=10,
        stem_channels=(32, 64),
        pyramid_channels=64,
        num_levels=4,
        hidden_channels=88,
        norm_cfg=dict(type='GN', num_groups=4),
        padding_mode='reflect'),
    decode_head=dict(
        in_channels=88,
        channels=88,
        num_convs=0))
