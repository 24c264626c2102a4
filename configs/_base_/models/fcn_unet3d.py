# UNet3D (Rustowicz et al., CVPR-W 2019) with base width 8, the PASTIS
# benchmark's configuration (Garnot & Landrieu 2021; 16 is the TSViT
# paper's): 3x3x3 convolutions over (time, height, width), two poolings,
# the decoder's 16-channel map averaged over the valid frames. FCNHead
# (3x3 16 -> 16, 1x1 classifier) replaces the paper's 3x3x3 classifier;
# 1,547,795 parameters with 19 classes (published network: 1,553,796).
_base_ = ['./sits_fcn.py']
model = dict(
    backbone=dict(type='UNet3D', in_channels=10, base_channels=8),
    decode_head=dict(
        in_channels=16,
        channels=16,
        num_convs=1,
        kernel_size=3,
        norm_cfg=dict(type='BN', requires_grad=True)))
