# Exact, stage 1 on PASTIS24: the entry point, the reference recipe on one
# GPU (exact_tsvit_1xb48-20e_pastis24-24x24.py). On 8 GPUs use
# exact_tsvit_8xb6-20e_pastis24-24x24.py (same global batch of 48, same
# iterations); any other GPU count works too: iteration counts refer to a
# 48-sample global batch and are converted (see the README, "Training on
# several GPUs").
#   python tools/train.py configs/exact/exact_tsvit_pastis.py
#   python tools/test.py  configs/exact/exact_tsvit_pastis.py CKPT
_base_ = ['./exact_tsvit_1xb48-20e_pastis24-24x24.py']
