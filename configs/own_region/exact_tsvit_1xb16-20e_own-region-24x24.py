# Exact stage 1 on your own region from image-level labels only (the
# windows' image_labels, from cells listing their crops or from parcels):
# the paper's network and 20-epoch schedule, 1 process x 16 samples,
# padded frames masked. The CAM test set (threshold and checkpoint
# selection) is the training split's image-labelled windows; with pixel
# truth on some of them (a few labelled parcels) the threshold sweep uses
# it, without any use --theta-rule image-labels of the pseudo-label tool.
_base_ = [
    '../_base_/models/exact_tsvit.py', '../_base_/datasets/own_region.py',
    '../_base_/schedules/schedule_exact_20e.py',
    '../_base_/default_runtime.py'
]
custom_imports = dict(
    imports=['mmexact', 'mmexact.exact'], allow_failed_imports=False)
num_classes = 12  # background + the crops of classes.json
model = dict(
    backbone=dict(num_tokens=num_classes - 1, mask_padded_frames=True),
    decode_head=dict(num_classes=num_classes, proto_start_iter=1000))
train_dataloader = dict(dataset=dict(require='image_labels'))
test_dataloader = dict(
    dataset=dict(split='train', require='image_labels'))
train_cfg = dict(val_interval=100000, base_batch_size=16)
auto_scale_lr = dict(base_batch_size=16)
stage2_config = 'exact-stage2_tsvit_1xb16-100e_own-region-24x24.py'
