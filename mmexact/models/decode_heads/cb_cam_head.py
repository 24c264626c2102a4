# Copyright (c) mmexact contributors. All rights reserved.
from typing import Dict, Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from mmseg.registry import MODELS
from mmseg.utils import ConfigType, SampleList
from .cam_head import CAMHead

__all__ = ['CBCAMHead']


@MODELS.register_module()
class CBCAMHead(CAMHead):
    """Exact's head: clue-based CAMs (CB-CAMs) from image-level labels.

    `Exact: Exploring Space-Time Perceptive Clues for Weakly Supervised
    Satellite Image Time Series Semantic Segmentation
    <https://arxiv.org/abs/2412.03968>`_ (CVPR 2025).

    On top of :class:`CAMHead` (the three multi-label losses) it adds:

    - **spatial clues**: class-wise foreground / background prototypes
      (:class:`ClassPrototypes`) learned with the clue contrastive loss
      L_cbl on the temporal class features, from iteration
      ``proto_start_iter`` on (1-based, read from the Runner);
    - **temporal clues**: ``V[b, k] = sum_t w[b, k, t] Z_seq[b, :, t]`` with
      ``w = softmax_t(A[b, k, :] / temperature)``, A the class-to-frame
      attention of the temporal encoder (exact-method.md §5);
    - **TAAP** (:class:`TemporalAffinityRefiner`) on V, giving
      ``M~ = (TAAP(V, M) + M) / 2`` for the fusion CAM M and the loss
      ``L_tap = lambda_2 * mean over positive (b, k) and cells |M~ - M|``;
    - in ``predict`` the CB-CAM (§7.1): ``ReLU(max_j cos(f, P_fg[k, j]) -
      max_j cos(f, P_bg[k, j]))`` refined as ``(C + TAAP(V, C)) / 2``.

    Reference switches (defaults reproduce the reference):

    - ``prototypes.mode``: ``'grad'`` (released 8-GPU run) / ``'ema'``.
    - ``temporal_weight_temperature=1.0``: softmax of averaged attention
      probabilities, nearly uniform (§10 #9); smaller values sharpen it.
      Padded frames join the softmax only if the backbone does not mask
      them (``mask_padded_frames=False``, the reference).
    - ``num_chunks=1``: with 8 the TAAP class gating and the prototype step
      run per chunk of the batch like on the reference's 8 GPUs (§10 #21).
    - loss-level switches of :class:`ClueContrastiveLoss`.

    Args:
        prototypes (dict): :class:`ClassPrototypes` config (``num_classes``
            and ``embed_dims`` are filled in).
        refiner (dict): :class:`TemporalAffinityRefiner` config.
        loss_cbl (dict): :class:`ClueContrastiveLoss` config (carries
            lambda_1 as ``loss_weight``).
        tap_weight (float): lambda_2. Defaults to 0.015.
        proto_start_iter (int): First (1-based) iteration of prototype
            learning. Defaults to 4000.
        temporal_weight_temperature (float): Defaults to 1.0.
        num_chunks (int): Defaults to 1.
        **kwargs: Passed to :class:`CAMHead`.
    """

    def __init__(self,
                 prototypes: ConfigType = dict(type='ClassPrototypes'),
                 refiner: ConfigType = dict(type='TemporalAffinityRefiner'),
                 loss_cbl: ConfigType = dict(type='ClueContrastiveLoss'),
                 tap_weight: float = 0.015,
                 proto_start_iter: int = 4000,
                 temporal_weight_temperature: float = 1.0,
                 num_chunks: int = 1,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        proto_cfg = dict(prototypes)
        proto_cfg.setdefault('num_classes', self.num_fg)
        proto_cfg.setdefault('embed_dims', self.in_channels)
        self.prototypes = MODELS.build(proto_cfg)
        self.refiner = MODELS.build(refiner)
        self.loss_cbl = MODELS.build(loss_cbl)
        self.tap_weight = tap_weight
        self.proto_start_iter = proto_start_iter
        self.temporal_weight_temperature = temporal_weight_temperature
        self.num_chunks = num_chunks

    # ------------------------------------------------------------------
    def temporal_clue(self, inputs: Dict[str, Tensor]) -> Tensor:
        """V (B, K, d, h, w): class-specific weighted mean of frame tokens.

        Computed with an einsum over (B, K, T) weights and (B, N, T, d)
        frame features; the (B, K, N, T, d) product is never formed.
        """
        attn = inputs.get('temporal_attention')
        if attn is None:
            raise ValueError('CBCAMHead needs the temporal attention: build '
                             'TSViT with with_temporal_attention=True')
        logits = attn.detach().float() / self.temporal_weight_temperature
        mask = inputs['frame_mask']
        logits = logits.masked_fill(~mask[:, None, :], float('-inf'))
        w = logits.softmax(dim=-1).to(inputs['temporal_seq'].dtype)
        v = torch.einsum('bkt,bntd->bknd', w, inputs['temporal_seq'])
        grid = self._check(inputs)
        return self._as_maps(v, grid)

    def refine(self, clue: Tensor, maps: Tensor, labels: Tensor) -> Tensor:
        """TAAP of maps (B, K, h, w) for classes present in the batch.

        Classes no image of the batch (chunk) has are not refined and get a
        zero map, as in the reference.
        """
        out = torch.zeros_like(maps)
        present = torch.nonzero(labels.any(dim=0)).flatten()
        if present.numel():
            out[:, present] = self.refiner(clue[:, present],
                                           maps[:, present])
        return out

    def _chunks(self, batch: int):
        size = -(-batch // max(self.num_chunks, 1))
        return [slice(i, min(i + size, batch)) for i in range(0, batch, size)]

    def loss(self, inputs: Dict[str, Tensor], batch_data_samples: SampleList,
             train_cfg: ConfigType) -> Dict[str, Tensor]:
        outputs = self.forward(inputs)
        losses = self.loss_by_feat(outputs, batch_data_samples)
        labels = self.image_labels(batch_data_samples).to(
            outputs['cls_logits'])
        fusion = (outputs['cam_spatial'].relu() +
                  outputs['cam_temporal'].relu()) / 2  # M, with gradient
        clue = self.temporal_clue(inputs)
        feats = inputs['temporal_cls'].permute(0, 2, 1, 3)  # (B, K, N, d)
        with_protos = self.current_step() >= self.proto_start_iter
        tap_num, cbl = fusion.new_zeros(()), []
        for sl in self._chunks(fusion.shape[0]):
            m, lab = fusion[sl], labels[sl]
            refined = (self.refine(clue[sl], m, lab) + m) / 2
            tap_num = tap_num + ((refined - m).abs() *
                                 lab[..., None, None]).sum()
            if with_protos:
                with torch.no_grad():
                    m_hat = m / (m.flatten(2).max(-1)[0][..., None, None] +
                                 1e-5)
                cbl.append(
                    self.loss_cbl(feats[sl], m_hat.flatten(2), lab,
                                  self.prototypes.fg, self.prototypes.bg,
                                  self.prototypes.momentum_update))
        cells = fusion.shape[-2] * fusion.shape[-1]
        losses['loss_tap'] = self.tap_weight * tap_num / (
            labels.sum().clamp(min=1) * cells)
        # before the warm-up iteration the prototypes receive no gradient
        # (DDP therefore needs find_unused_parameters=True in 'grad' mode)
        losses['loss_cbl'] = torch.stack(cbl).mean() if cbl else \
            fusion.new_zeros(())
        return losses

    # ------------------------------------------------------------------
    def raw_cams(self, inputs: Dict[str, Tensor],
                 outputs: Dict[str, Tensor], labels: Tensor) -> Tensor:
        """CB-CAM (B, K, h, w) before gating and normalisation (§7.1)."""
        fg, bg = self.prototypes.normalized()
        f = F.normalize(inputs['temporal_cls'].permute(0, 2, 1, 3), dim=-1)
        s_fg = torch.einsum('bknd,kjd->bknj', f, fg).max(dim=-1)[0]
        s_bg = torch.einsum('bknd,kjd->bknj', f, bg).max(dim=-1)[0]
        grid = self._check(inputs)
        cams = (s_fg - s_bg).relu().view(*s_fg.shape[:2], *grid)
        return (cams + self.refine(self.temporal_clue(inputs), cams,
                                   labels)) / 2
