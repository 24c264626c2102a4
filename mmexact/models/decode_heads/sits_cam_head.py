# Copyright (c) mmexact contributors. All rights reserved.
import logging
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmcv.cnn import build_norm_layer
from mmengine.logging import print_log
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmseg.registry import MODELS
from mmseg.utils import ConfigType, SampleList
from ..utils import (cams_to_seg_scores, masked_temporal_mean,
                     minmax_normalize_cams, split_sits_inputs,
                     upsample_cams)

__all__ = ['SITSCAMHead']

LossCfg = Union[ConfigType, Sequence[ConfigType]]


def _build_losses(cfg: LossCfg) -> nn.ModuleList:
    cfgs = [cfg] if isinstance(cfg, dict) else list(cfg)
    return nn.ModuleList([MODELS.build(c) for c in cfgs])


@MODELS.register_module()
class SITSCAMHead(BaseModule):
    """Multi-label classification head with class activation maps.

    Trained from image-level labels only (the data field ``gt_cls_label``
    (K,) of each sample; pixel labels are never read in training). It reads
    the ``'raw'`` output of a :class:`TSViT` with one temporal class token
    per crop class and a spatial class token, and computes (exact-method.md
    §3.4):

    - ``cls_logits`` (B, K): ``LayerNorm -> Linear(d, 1)`` on the global
      token of each class;
    - ``A_S``, ``A_T`` (B, K, h, w): one shared ``Conv2d(d, 1, 3, p=1)``
      (``patch_head``) applied to the spatial and to the temporal class
      features; their spatial means are the auxiliary logits.

    Losses are registered loss modules, as mmseg's ``loss_decode``:
    ``loss_cls`` on the global logits and ``loss_aux`` on each of the two
    patch logits (summed). The defaults, mmseg's ``CrossEntropyLoss`` with
    ``use_sigmoid=True`` (binary cross-entropy averaged over images and
    classes, i.e. the multi-label soft margin loss of the reference) with
    weights 1 and 0.5, reproduce Exact.

    In ``predict`` this vanilla head uses the patch-head CAM
    ``(ReLU(A_S) + ReLU(A_T)) / 2``; :class:`CBCAMHead` replaces it by the
    clue-based CAM. CAMs are gated by class labels, min-max normalised per
    present class, upsampled (bilinear, ``align_corners=True``) and stacked
    behind a constant background channel ``bg_threshold``, giving
    per-pixel scores (B, K + 1, H, W) whose argmax is the pseudo label — so
    mmseg's ``IoUMetric`` measures CAM quality unchanged.

    **CAM refinement.** With ``cam_refiner`` (any registered refiner, e.g.
    :class:`TemporalAffinityRefiner` or :class:`PAMR`) the CAMs of
    ``predict`` become ``(1 - cam_refiner_mix) * C + cam_refiner_mix *
    refiner(guide, C)`` before gating and normalisation. The guide
    (``cam_refiner_guide``):

    - ``'temporal_clue'``: Exact's temporal clue V (B, K, d, h, w), the
      class-specific attention-weighted mean of the frame tokens (needs
      ``with_temporal_attention=True``; exact-method.md §5), refined at the
      CAM resolution — TAAP on vanilla CAMs;
    - ``'bands'``: the normalised bands of all valid dates of the input,
      stacked as channels (T x C, H, W), so that affinities reflect the
      whole season; the CAMs are upsampled to the input size first (pixel
      level, as PAMR). Samples with different numbers of valid dates are
      refined one by one, so padding never enters the guide;
    - ``'bands_mean'``: the mean of the bands over the valid dates
      (C, H, W), at the input size.

    The refiner has no parameters and does not change training. The
    ``'bands'`` guides need the packed inputs in the features, which
    :class:`SITSCAMSegmentor` adds (key ``'inputs'``).

    It is a decode head for mmseg's ``EncoderDecoder`` (``loss``,
    ``predict``, ``num_classes``, ``out_channels``, ``align_corners``)
    without a per-pixel classifier.

    Args:
        in_channels (int): Token width d.
        num_classes (int): Output classes incl. background (K + 1).
            Defaults to 19.
        loss_cls (dict | list[dict]): Loss(es) of the global logits.
        loss_aux (dict | list[dict]): Loss(es) of each patch logit.
        bg_threshold (float): theta of the background channel in
            ``predict``. Defaults to 0.35 (the reference picks theta per run
            by a sweep, see ``tools/exact/generate_pseudo_labels.py``).
        cam_gating (str): Which classes get a CAM in ``predict``: ``'gt'``
            (image labels of the sample: the WSSS evaluation protocol and
            the one used for pseudo labels; default), ``'pred'`` (the
            classifier's own predictions, for unlabelled data) or
            ``'none'`` (every class, ungated: what the label-free threshold
            selection :class:`ImageLabelSweepMetric` scores).
        pred_threshold (float): Probability above which a class counts as
            predicted with ``cam_gating='pred'``. Defaults to 0.5.
        norm_cfg (dict): Norm of the global classifier.
        align_corners (bool): Kept for ``EncoderDecoder``; CAMs are always
            upsampled with ``align_corners=True``. Defaults to False.
        cam_refiner (dict, optional): Refiner applied in ``predict``.
        cam_refiner_guide (str): ``'temporal_clue'``, ``'bands'`` or
            ``'bands_mean'``. Defaults to ``'bands'`` (any input); Exact's
            TAAP configs name ``'temporal_clue'``.
        cam_refiner_mix (float): Weight of the refined CAM. Defaults to
            0.5 (Exact's ``(C + TAAP(V, C)) / 2``).
        temporal_weight_temperature (float): Temperature of the softmax
            over the class-to-frame attention in the temporal clue.
            Defaults to 1.0.
        init_cfg (dict, optional): Initialisation config.
    """

    GATINGS = ('gt', 'pred', 'none')
    GUIDES = ('temporal_clue', 'bands', 'bands_mean')

    def __init__(self,
                 in_channels: int,
                 num_classes: int = 19,
                 loss_cls: LossCfg = dict(
                     type='CrossEntropyLoss',
                     use_sigmoid=True,
                     avg_non_ignore=True,
                     loss_weight=1.0,
                     loss_name='loss_cls'),
                 loss_aux: LossCfg = dict(
                     type='CrossEntropyLoss',
                     use_sigmoid=True,
                     avg_non_ignore=True,
                     loss_weight=0.5,
                     loss_name='loss_aux'),
                 bg_threshold: float = 0.35,
                 cam_gating: str = 'gt',
                 pred_threshold: float = 0.5,
                 norm_cfg: dict = dict(type='LN'),
                 align_corners: bool = False,
                 cam_refiner: Optional[ConfigType] = None,
                 cam_refiner_guide: str = 'bands',
                 cam_refiner_mix: float = 0.5,
                 temporal_weight_temperature: float = 1.0,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if cam_gating not in self.GATINGS:
            raise ValueError(f'cam_gating must be one of {self.GATINGS}, '
                             f'got {cam_gating!r}')
        if cam_refiner_guide not in self.GUIDES:
            raise ValueError(f'cam_refiner_guide must be one of '
                             f'{self.GUIDES}, got {cam_refiner_guide!r}')
        if num_classes < 2:
            raise ValueError('num_classes counts the background: >= 2')
        self.in_channels = in_channels
        self.num_classes = num_classes
        self.out_channels = num_classes
        self.num_fg = num_classes - 1
        self.align_corners = align_corners
        self.threshold = None  # mmseg reads it only for out_channels == 1
        self.bg_threshold = bg_threshold
        self.cam_gating = cam_gating
        self.pred_threshold = pred_threshold
        self.loss_cls = _build_losses(loss_cls)
        self.loss_aux = _build_losses(loss_aux)
        self.cls_norm = build_norm_layer(norm_cfg, in_channels)[1]
        self.cls_fc = nn.Linear(in_channels, 1)
        self.patch_head = nn.Conv2d(in_channels, 1, 3, padding=1)
        self.cam_refiner = MODELS.build(cam_refiner) \
            if cam_refiner is not None else None
        self.cam_refiner_guide = cam_refiner_guide
        self.cam_refiner_mix = cam_refiner_mix
        self.temporal_weight_temperature = temporal_weight_temperature

    # ------------------------------------------------------------------
    @staticmethod
    def _as_maps(tokens: Tensor, grid: Tuple[int, int]) -> Tensor:
        """(B, K, N, d) -> (B, K, d, h, w)."""
        b, k, n, d = tokens.shape
        return tokens.permute(0, 1, 3, 2).reshape(b, k, d, *grid)

    def _patch_cam(self, maps: Tensor) -> Tensor:
        """Shared 3x3 conv on (B, K, d, h, w) -> (B, K, h, w)."""
        b, k = maps.shape[:2]
        out = self.patch_head(maps.flatten(0, 1))
        return out.view(b, k, *maps.shape[-2:])

    def _check(self, feats: Dict[str, Tensor]) -> Tuple[int, int]:
        if not isinstance(feats, dict) or feats.get('global_tokens') is None:
            raise ValueError(
                f'{type(self).__name__} needs the raw TSViT output with a '
                "spatial class token (out_type='raw', spatial_cls_token="
                'True)')
        k = feats['temporal_cls'].shape[2]
        if k != self.num_fg:
            raise ValueError(f'backbone has {k} class tokens, head expects '
                             f'{self.num_fg} (num_classes - 1)')
        return tuple(feats['grid'])

    def forward(self, inputs: Dict[str, Tensor]) -> Dict[str, Tensor]:
        """Logits and CAMs.

        Args:
            inputs (dict): Raw TSViT output.

        Returns:
            dict: ``cls_logits`` (B, K), ``spatial_logits`` (B, K),
            ``temporal_logits`` (B, K), ``cam_spatial`` and
            ``cam_temporal`` (B, K, h, w) (the patch-head maps A_S, A_T).
        """
        grid = self._check(inputs)
        g = inputs['global_tokens']
        cls_logits = self.cls_fc(self.cls_norm(g)).squeeze(-1)
        a_s = self._patch_cam(self._as_maps(inputs['spatial'], grid))
        f_t = inputs['temporal_cls'].permute(0, 2, 1, 3)  # (B, K, N, d)
        a_t = self._patch_cam(self._as_maps(f_t, grid))
        return dict(
            cls_logits=cls_logits,
            spatial_logits=a_s.mean(dim=(-2, -1)),
            temporal_logits=a_t.mean(dim=(-2, -1)),
            cam_spatial=a_s,
            cam_temporal=a_t)

    @staticmethod
    def fusion_cam(outputs: Dict[str, Tensor]) -> Tensor:
        """``M = (ReLU(A_S) + ReLU(A_T)) / 2`` (B, K, h, w) in float32,
        with gradient (the patch-head CAM, exact-method.md §4.2)."""
        return (outputs['cam_spatial'].float().relu() +
                outputs['cam_temporal'].float().relu()) / 2

    # ------------------------------------------------------------------
    @staticmethod
    def image_labels(batch_data_samples: SampleList) -> Tensor:
        """Stack the ``gt_cls_label`` fields into (B, K) float."""
        try:
            return torch.stack(
                [s.gt_cls_label for s in batch_data_samples]).float()
        except AttributeError as exc:
            raise KeyError('samples carry no "gt_cls_label"; make them with '
                           'GenerateImageLabels (after LoadSITSSample) and '
                           'pack with PackSITSInputs') from exc

    def loss_by_feat(self, outputs: Dict[str, Tensor],
                     batch_data_samples: SampleList) -> Dict[str, Tensor]:
        """Classification losses from the logits of :meth:`forward`."""
        labels = self.image_labels(batch_data_samples).to(
            outputs['cls_logits'].device)
        losses = {}

        def add(name: str, value: Tensor) -> None:
            losses[name] = losses[name] + value if name in losses else value

        for loss in self.loss_cls:
            add(loss.loss_name, loss(outputs['cls_logits'].float(), labels))
        for loss in self.loss_aux:
            for key in ('spatial_logits', 'temporal_logits'):
                add(loss.loss_name, loss(outputs[key].float(), labels))
        return losses

    def loss(self, inputs: Dict[str, Tensor], batch_data_samples: SampleList,
             train_cfg: Optional[ConfigType] = None) -> Dict[str, Tensor]:
        """Losses of a training batch (image-level labels only)."""
        return self.loss_by_feat(self.forward(inputs), batch_data_samples)

    # ------------------------------------------------------------------
    def temporal_clue(self, inputs: Dict[str, Tensor]) -> Tensor:
        """V (B, K, d, h, w) in float32: class-specific weighted mean of
        frame tokens, ``V[b, k] = sum_t w[b, k, t] Z_seq[b, :, t]`` with
        ``w = softmax_t(A[b, k, :] / temperature)`` (exact-method.md §5).

        Computed with an einsum over (B, K, T) weights and (B, N, T, d)
        frame features; the (B, K, N, T, d) product is never formed.
        """
        attn = inputs.get('temporal_attention')
        if attn is None:
            raise ValueError(f'{type(self).__name__} needs the temporal '
                             'attention: build TSViT with '
                             'with_temporal_attention=True')
        seq = inputs['temporal_seq']
        with torch.autocast(seq.device.type, enabled=False):
            logits = attn.detach().float() / self.temporal_weight_temperature
            mask = inputs['frame_mask']
            logits = logits.masked_fill(~mask[:, None, :], float('-inf'))
            w = logits.softmax(dim=-1)
            v = torch.einsum('bkt,bntd->bknd', w, seq.float())
        grid = self._check(inputs)
        return self._as_maps(v, grid)

    def _bands(self, inputs: Dict[str, Tensor]) -> Tuple[Tensor, Tensor]:
        """Bands (B, T, C, H, W) and valid-frame mask of the inputs."""
        packed = inputs.get('inputs')
        if packed is None:
            raise ValueError(
                f"cam_refiner_guide={self.cam_refiner_guide!r} needs the "
                "packed inputs in the features (key 'inputs'): use "
                'SITSCAMSegmentor')
        bands, _, valid = split_sits_inputs(packed, packed.shape[2] - 1,
                                            type(self).__name__)
        return bands, valid

    def refine_cams(self, inputs: Dict[str, Tensor], cams: Tensor,
                    labels: Tensor) -> Tensor:
        """Apply ``cam_refiner`` to raw CAMs (B, K, h, w), float32.

        Only the classes present in some image of the batch are refined
        (the others are gated out afterwards). Returns (B, K, h, w) for the
        temporal clue and (B, K, H, W) (input size) for the band guides.
        """
        mix = self.cam_refiner_mix
        present = torch.nonzero(labels.any(dim=0)).flatten()
        if self.cam_refiner_guide == 'temporal_clue':
            out = cams.clone()
            if present.numel():
                clue = self.temporal_clue(inputs)
                out[:, present] = (1 - mix) * cams[:, present] + \
                    mix * self.cam_refiner(clue[:, present],
                                           cams[:, present]).float()
            return out
        bands, valid = self._bands(inputs)
        cams = upsample_cams(cams, bands.shape[-2:])
        out = cams.clone()
        if not present.numel():
            return out
        if self.cam_refiner_guide == 'bands_mean':
            groups = [(slice(None), masked_temporal_mean(bands, valid))]
        else:
            counts = valid.sum(dim=1)
            if bool((counts == counts[0]).all()):
                kept = bands[valid].view(bands.shape[0], -1,
                                         *bands.shape[-2:])
                groups = [(slice(None), kept)]
            else:
                groups = [(slice(b, b + 1),
                           bands[b, valid[b]].flatten(0, 1)[None])
                          for b in range(bands.shape[0])]
        for sl, guide in groups:
            sub = cams[sl][:, present]
            out[sl, present] = (1 - mix) * sub + mix * self.cam_refiner(
                guide.float(), sub).float()
        return out

    def raw_cams(self, inputs: Dict[str, Tensor],
                 outputs: Dict[str, Tensor], labels: Tensor) -> Tensor:
        """Un-normalised CAMs (B, K, h, w) used for prediction."""
        return self.fusion_cam(outputs)

    def gate_labels(self, outputs: Dict[str, Tensor],
                    batch_data_samples: Optional[SampleList]) -> Tensor:
        """Classes that receive a CAM, (B, K) float.

        With ``cam_gating='gt'`` the samples' image labels; without data
        samples (unlabelled inputs, e.g. a weak map) the predicted classes.
        Samples without ``gt_cls_label`` among labelled ones are gated by
        their predicted classes with a warning that counts them. With
        ``'none'`` every class.
        """
        if self.cam_gating == 'none':
            return torch.ones_like(outputs['cls_logits'], dtype=torch.float)
        pred = (outputs['cls_logits'].float().sigmoid() >
                self.pred_threshold).float()
        if self.cam_gating != 'gt' or batch_data_samples is None:
            return pred
        have = [i for i, s in enumerate(batch_data_samples)
                if 'gt_cls_label' in s]
        if len(have) < len(batch_data_samples):
            print_log(
                f"cam_gating='gt': {len(batch_data_samples) - len(have)} of "
                f'{len(batch_data_samples)} samples carry no gt_cls_label; '
                'their CAMs are gated by the predicted classes',
                logger='current', level=logging.WARNING)
        if not have:
            return pred
        labels = pred.clone()
        labels[have] = self.image_labels(
            [batch_data_samples[i] for i in have]).to(labels.device)
        return labels

    def predict_cams(self, inputs: Dict[str, Tensor],
                     batch_data_samples: Optional[SampleList] = None
                     ) -> Tuple[Tensor, Tensor]:
        """Normalised CAMs (B, K, h, w) in [0, 1] and class probabilities.

        Absent (gated-out) classes are all-zero. Computed in float32 (also
        under autocast).
        """
        outputs = self.forward(inputs)
        labels = self.gate_labels(outputs, batch_data_samples)
        with torch.autocast(labels.device.type, enabled=False):
            cams = self.raw_cams(inputs, outputs, labels).float()
            if self.cam_refiner is not None:
                cams = self.refine_cams(inputs, cams, labels)
            cams = minmax_normalize_cams(cams, labels)
        return cams, outputs['cls_logits'].float().sigmoid()

    def predict_with_scores(self, inputs: Dict[str, Tensor],
                            batch_img_metas: List[dict],
                            batch_data_samples: Optional[SampleList] = None
                            ) -> Tuple[Tensor, Tensor]:
        """Seg scores (B, K + 1, H, W) and class probabilities (B, K)."""
        cams, probs = self.predict_cams(inputs, batch_data_samples)
        meta = batch_img_metas[0]
        size = meta.get('pad_shape', meta.get('img_shape'))[:2]
        return cams_to_seg_scores(cams, self.bg_threshold, size), probs

    def predict(self, inputs: Dict[str, Tensor], batch_img_metas: List[dict],
                test_cfg: Optional[ConfigType] = None) -> Tensor:
        """Seg scores from the predicted classes (no data samples here)."""
        return self.predict_with_scores(inputs, batch_img_metas)[0]
