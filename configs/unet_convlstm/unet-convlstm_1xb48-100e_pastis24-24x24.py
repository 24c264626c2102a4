# U-Net + ConvLSTM, fully supervised on PASTIS24 windows (1 GPU x batch 48): train
# folds 1-3, validation fold 4, test fold 5, with the schedule of the TSViT
# baseline (AdamW 1e-3, 10-epoch warm-up + cosine, 100 epochs).
_base_ = [
    '../_base_/models/fcn_unet-convlstm.py', '../_base_/datasets/pastis24.py',
    '../_base_/schedules/schedule_100e.py', '../_base_/default_runtime.py'
]
