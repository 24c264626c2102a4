# `tools/demo/run_baselines.py`: FPN + ConvLSTM on the synthetic PASTIS demo data
# (1 process x batch 16, 8 epochs: the budget of the fully supervised TSViT
# demo, configs/tsvit/tsvit_1xb16-8e_demo-24x24.py), with narrower layers
# for CPU training.
_base_ = [
    '../_base_/models/fcn_fpn-convlstm.py',
    '../_base_/datasets/synthetic_pastis_demo.py',
    '../_base_/schedules/schedule_demo_8e.py', '../_base_/default_runtime.py'
]
model = dict(
    backbone=dict(
        stem_channels=(16, 16), pyramid_channels=16, hidden_channels=16),
    decode_head=dict(in_channels=16, channels=16))
