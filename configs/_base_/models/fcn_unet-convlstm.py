# U-Net + ConvLSTM ("U-ConvLSTM", the recurrent U-Net of the PASTIS
# benchmark, Garnot & Landrieu 2021; the UNet2D-ConvLSTM family of
# Rustowicz et al. 2019): U-TAE's spatial U-Net (group norm throughout,
# zero padding), a ConvLSTM of width 64 at the lowest resolution whose final
# cell state is mapped back to 128 channels, skips collapsed by the mean
# over the valid frames. FCNHead as the output convolutions (see
# fcn_utae.py); 1,515,315 parameters with 19 classes (published network:
# 1,520,540).
_base_ = ['./sits_fcn.py']
model = dict(
    backbone=dict(
        type='UNetConvLSTM',
        in_channels=10,
        encoder_widths=(64, 64, 64, 128),
        decoder_widths=(32, 32, 64, 128),
        hidden_channels=64,
        state='cell',
        encoder_norm_cfg=dict(type='GN', num_groups=4),
        decoder_norm_cfg=dict(type='GN', num_groups=4),
        padding_mode='zeros',
        out_indices=(0, )),
    decode_head=dict(
        in_channels=32,
        channels=32,
        num_convs=1,
        kernel_size=3,
        norm_cfg=dict(type='BN', requires_grad=True)))
