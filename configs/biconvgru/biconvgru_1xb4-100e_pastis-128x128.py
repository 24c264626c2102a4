# BiConvGRU, fully supervised on whole 128 x 128 patches of the raw PASTIS
# layout (1 GPU x batch 4, the U-TAE paper's protocol): train folds 1-3,
# validation fold 4, test fold 5, 100 epochs of the TSViT baseline's
# schedule. The network is fully convolutional: no slide inference.
_base_ = [
    '../_base_/models/fcn_biconvgru.py', '../_base_/datasets/pastis.py',
    '../_base_/schedules/schedule_100e.py', '../_base_/default_runtime.py'
]
whole_patches = dict(window_size=None, window_stride=None)
train_dataloader = dict(batch_size=4, dataset=whole_patches)
val_dataloader = dict(batch_size=4, dataset=whole_patches)
test_dataloader = dict(batch_size=4, dataset=whole_patches)
