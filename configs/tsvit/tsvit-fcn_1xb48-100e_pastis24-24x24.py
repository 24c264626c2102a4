# TSViT as a generic backbone under a stock mmseg decode head: the backbone
# returns ordinary (B, K*d, 12, 12) feature maps and mmseg's FCNHead
# upsamples its logits to 24 x 24.
_base_ = ['./tsvit_1xb48-100e_pastis24-24x24.py']
model = dict(
    backbone=dict(out_type='featmap'),
    decode_head=dict(
        _delete_=True,
        type='FCNHead',
        in_channels=19 * 128,
        channels=128,
        num_convs=1,
        concat_input=False,
        dropout_ratio=0.1,
        num_classes=19,
        norm_cfg=dict(type='BN', requires_grad=True),
        align_corners=False,
        ignore_index=255,
        loss_decode=dict(
            type='CrossEntropyLoss',
            use_sigmoid=False,
            loss_weight=1.0,
            avg_non_ignore=True)))
