# Fully supervised TSViT on your own region (pixel labels from parcels):
# the PASTIS24 network and 100-epoch schedule, 1 process x 16 samples,
# padded frames masked, the corrected pixel layout. Set data_root and the
# class count of the region (scene_to_windows.py writes this config with
# them into <data_root>/configs/).
_base_ = [
    '../_base_/models/tsvit_seg.py', '../_base_/datasets/own_region.py',
    '../_base_/schedules/schedule_100e.py', '../_base_/default_runtime.py'
]
num_classes = 12  # background + the crops of classes.json
model = dict(
    backbone=dict(num_tokens=num_classes, mask_padded_frames=True),
    decode_head=dict(num_classes=num_classes, legacy_unpatchify=False))
train_cfg = dict(base_batch_size=16)
auto_scale_lr = dict(base_batch_size=16)
