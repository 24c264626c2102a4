# Copyright (c) mmexact contributors. All rights reserved.
from torch import Tensor

from mmseg.registry import MODELS
from mmseg.utils import OptSampleList, SampleList
from .sits_encoder_decoder import SITSEncoderDecoder

__all__ = ['SITSCAMSegmentor']


@MODELS.register_module()
class SITSCAMSegmentor(SITSEncoderDecoder):
    """Segmentor for CAM heads trained from image-level labels (stage 1).

    Training is the standard ``EncoderDecoder`` path (the head reads the
    image labels ``gt_cls_label`` from the samples). In ``predict`` the
    head's CAM-based per-pixel scores go through the usual post-processing,
    so ``pred_sem_seg`` / ``seg_logits`` feed mmseg's ``IoUMetric`` (CAM
    mIoU), and each sample also gets ``pred_score`` (class probabilities)
    and ``gt_score`` (its image labels) for mmpretrain's multi-label
    metrics. The head must implement ``predict_with_scores`` (see
    :class:`SITSCAMHead`); CAMs are gated by the samples' image labels when the
    head's ``cam_gating='gt'``.

    When the backbone returns a dict of features (TSViT's ``'raw'``
    output), :meth:`extract_feat` adds the packed inputs under ``'inputs'``
    for heads whose CAM refiner is guided by the image bands.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.test_cfg.get('mode', 'whole') != 'whole':
            raise ValueError(
                f"SITSCAMSegmentor predicts whole windows only, got "
                f"test_cfg.mode={self.test_cfg.mode!r}: CAMs are normalised "
                'per window, so slide inference would stitch windows of '
                'different scales (map large areas with tools/infer.py)')

    def extract_feat(self, inputs: Tensor):
        feats = super().extract_feat(inputs)
        if isinstance(feats, dict):
            feats = dict(feats, inputs=inputs)
        return feats

    def predict(self,
                inputs: Tensor,
                data_samples: OptSampleList = None) -> SampleList:
        if data_samples is not None:
            metas = [s.metainfo for s in data_samples]
        else:
            size = inputs.shape[-2:]
            metas = [
                dict(ori_shape=size, img_shape=size, pad_shape=size,
                     padding_size=[0, 0, 0, 0])
            ] * inputs.shape[0]
        feats = self.extract_feat(inputs)
        seg_scores, probs = self.decode_head.predict_with_scores(
            feats, metas, data_samples)
        results = self.postprocess_result(seg_scores, data_samples)
        for i, res in enumerate(results):
            res.set_field(probs[i], 'pred_score')
            if data_samples is not None and 'gt_cls_label' in data_samples[i]:
                res.set_field(data_samples[i].gt_cls_label.float(),
                              'gt_score')
        return results
