# Exact's classification network (exact-method.md §3-§7): TSViT with 18
# temporal class tokens (one per crop class) and one shared spatial class
# token, depths 8 + 4, 4 heads x 64, MLP 512; CBCAMHead with prototypes,
# clue contrastive loss and TAAP. 3,245,442 parameters (one-hot width 366).
# Reference switches: residual_mode='normed_skip', prototypes mode 'grad',
# chunk_size=6 (the released 8 x 6-sample run),
# mask_padded_frames=False (padded frames are ordinary keys and enter the
# temporal weights, §10 #9); set it to True for the corrected variant whose
# output does not depend on the amount of padding.
model = dict(
    type='SITSCAMSegmentor',
    data_preprocessor=dict(type='SITSDataPreProcessor'),
    backbone=dict(
        type='TSViT',
        img_size=24,
        patch_size=2,
        in_channels=10,
        embed_dims=128,
        num_tokens=18,
        temporal_depth=8,
        spatial_depth=4,
        num_heads=4,
        head_dims=64,
        ffn_dims=512,
        drop_rate=0.,  # reference: dropout 0
        emb_drop_rate=0.,  # reference: emb_dropout 0 (spatial input only)
        doy_vocab=366,
        spatial_cls_token=True,
        residual_mode='normed_skip',
        mask_padded_frames=False,
        out_type='raw',
        with_temporal_attention=True),
    decode_head=dict(
        type='CBCAMHead',
        in_channels=128,
        num_classes=19,
        # L_cls and L_aux: multi-label soft margin (= sigmoid BCE averaged
        # over images and classes), weights 1 and 0.5
        loss_cls=dict(
            type='CrossEntropyLoss', use_sigmoid=True, avg_non_ignore=True,
            loss_weight=1.0, loss_name='loss_cls'),
        loss_aux=dict(
            type='CrossEntropyLoss', use_sigmoid=True, avg_non_ignore=True,
            loss_weight=0.5, loss_name='loss_aux'),
        bg_threshold=0.35,
        cam_gating='gt',
        prototypes=dict(
            type='ExactClassPrototypes',
            num_prototypes=2,
            mode='grad',
            momentum=0.999,
            sinkhorn_eps=0.05,
            sinkhorn_iters=3,
            assignment='gumbel',
            gumbel_tau=0.5,
            weight_power=2.),
        refiner=dict(
            type='TemporalAffinityRefiner', dilations=(2, ), num_iters=3,
            alpha=0.3),
        loss_cbl=dict(
            type='ClueContrastiveLoss',
            temperature=0.1,
            class_average='all',
            loss_weight=0.01),
        loss_tap=dict(type='RefinementConsistencyLoss', loss_weight=0.015),
        fg_thr=0.4,
        bg_thr=0.2,
        # in iterations of the schedule's base batch (train_cfg)
        proto_start_iter=4000,
        temporal_weight_temperature=1.0,
        # prototype statistics and TAAP gating per 6 samples, as on the
        # released run's 8 GPUs x 6, whatever the number of processes
        chunk_size=6,
        # L_cbl: mean over chunks of each chunk's class average (the
        # released run); 'class' averages each class over the chunks that
        # hold it (README, "Many-class data")
        chunk_average='chunk'),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
