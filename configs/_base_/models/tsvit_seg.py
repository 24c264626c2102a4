# TSViT segmentation network of Exact's stage 2 (exact-method.md §8.1):
# d 128, depths 4 + 4, 4 heads x 32, MLP 512, 19 class tokens; 1,657,476
# parameters. Reference switches: residual_mode='double_skip' (x + LN(x) + MHSA)
# and legacy_unpatchify=True (the published pixel layout), and
# mask_padded_frames=False (zero-padded frames are ordinary attention keys,
# as in the reference). The corrected variant (True) masks them, so results
# do not depend on the amount of padding.
data_preprocessor = dict(type='SITSDataPreProcessor')
model = dict(
    type='SITSEncoderDecoder',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='TSViT',
        img_size=24,
        patch_size=2,
        in_channels=10,
        embed_dims=128,
        num_tokens=19,
        temporal_depth=4,
        spatial_depth=4,
        num_heads=4,
        head_dims=32,
        ffn_dims=512,
        drop_rate=0.,  # reference: dropout 0
        emb_drop_rate=0.,  # reference: emb_dropout 0 (spatial input only)
        doy_vocab=366,
        residual_mode='double_skip',
        mask_padded_frames=False,
        out_type='tokens'),
    decode_head=dict(
        type='TSViTHead',
        in_channels=128,
        num_classes=19,
        patch_size=2,
        legacy_unpatchify=True,
        ignore_index=255,
        loss_decode=dict(
            type='CrossEntropyLoss',
            use_sigmoid=False,
            loss_weight=1.0,
            avg_non_ignore=True)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
