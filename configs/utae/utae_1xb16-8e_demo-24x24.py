# `tools/demo/run_baselines.py`: U-TAE on the synthetic PASTIS demo data
# (1 process x batch 16, 8 epochs: the budget of the fully supervised TSViT
# demo, configs/tsvit/tsvit_1xb16-8e_demo-24x24.py), with narrower layers
# for CPU training.
_base_ = [
    '../_base_/models/fcn_utae.py',
    '../_base_/datasets/synthetic_pastis_demo.py',
    '../_base_/schedules/schedule_demo_8e.py', '../_base_/default_runtime.py'
]
model = dict(
    backbone=dict(
        encoder_widths=(16, 16, 16, 32),
        decoder_widths=(16, 16, 16, 32),
        ltae=dict(
            embed_dims=64, num_heads=8, key_dims=4, mlp_channels=(64, ),
            dropout=0.2)),
    decode_head=dict(in_channels=16, channels=16))
