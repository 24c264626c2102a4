# Exact, stage 1 on 8 GPUs x 6 samples (the released run's layout: a
# global batch of 48, one 6-sample chunk per GPU):
#   tools/dist_train.sh configs/exact/exact_tsvit_8xb6-20e_pastis24-24x24.py 8
_base_ = ['./exact_tsvit_1xb48-20e_pastis24-24x24.py']
train_dataloader = dict(batch_size=6, num_workers=2)
val_dataloader = dict(batch_size=8, num_workers=2)
test_dataloader = dict(batch_size=8, num_workers=2)
