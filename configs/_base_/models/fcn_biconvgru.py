# BiConvGRU (Russwurm & Koerner, ISPRS IJGI 2018; "BiCGRU" in the TSViT
# paper): 3x3 frame embedding to 64, a forward and a backward ConvGRU of
# 256, final hidden states concatenated (512 channels). FCNHead without
# convolutions gives a 1x1 classifier (the paper's is 3x3): 4,440,787
# parameters with 19 classes (published network: 4,523,220).
_base_ = ['./sits_fcn.py']
model = dict(
    backbone=dict(
        type='BiConvGRU',
        in_channels=10,
        embed_channels=64,
        hidden_channels=256,
        kernel_size=3),
    decode_head=dict(
        in_channels=512,
        channels=512,
        num_convs=0))
