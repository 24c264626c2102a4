# Copyright (c) mmexact contributors. All rights reserved.
from typing import Dict, List, Optional, Tuple

import torch
import torch.distributed as dist
import torch.nn.functional as F
from mmengine.dist import get_world_size, is_distributed
from torch import Tensor, nn

from mmseg.registry import MODELS
from mmseg.utils import ConfigType, SampleList
from ..models.decode_heads.sits_cam_head import SITSCAMHead

__all__ = ['CBCAMHead']


@MODELS.register_module()
class CBCAMHead(SITSCAMHead):
    """Exact's head: clue-based CAMs (CB-CAMs) from image-level labels.

    `Exact: Exploring Space-Time Perceptive Clues for Weakly Supervised
    Satellite Image Time Series Semantic Segmentation
    <https://arxiv.org/abs/2412.03968>`_ (CVPR 2025).

    On top of :class:`SITSCAMHead` (the three multi-label losses) it adds:

    - **spatial clues**: class-wise foreground / background prototypes
      (:class:`ExactClassPrototypes`) learned with the clue contrastive
      loss L_cbl (:class:`ClueContrastiveLoss`) on the temporal class
      features, from training step ``proto_start_iter`` on. Pixels whose
      max-normalised fusion CAM is ``>= fg_thr`` (in images labelled with
      the class) are its foreground samples, pixels below ``bg_thr`` (any
      image) its background samples;
    - **temporal clues**: ``V[b, k] = sum_t w[b, k, t] Z_seq[b, :, t]`` with
      ``w = softmax_t(A[b, k, :] / temperature)``, A the class-to-frame
      attention of the temporal encoder (exact-method.md §5);
    - **TAAP** (:class:`TemporalAffinityRefiner`) on V, giving
      ``M~ = (TAAP(V, M) + M) / 2`` for the fusion CAM M and the loss
      L_tap (:class:`RefinementConsistencyLoss`);
    - in ``predict`` the CB-CAM (§7.1): ``ReLU(max_j cos(f, P_fg[k, j]) -
      max_j cos(f, P_bg[k, j]))`` refined as ``(C + TAAP(V, C)) / 2``.

    The clue maths (prototypes, Sinkhorn, temporal clue, TAAP, CAM
    normalisation) runs in float32, also under autocast.

    **Training step.** The head counts its training steps itself (1, 2,
    ... per :meth:`loss` call); :class:`SITSTrainStepHook` sets the step
    before every iteration from the Runner, in iterations of the schedule's
    base batch (see :class:`IterBasedEpochTrainLoop`), so the warm-up
    starts after the same number of samples on any number of GPUs, and
    :meth:`check_train_schedule` stops a run that would never reach it.

    **Chunks and processes.** The prototype step's statistics (Sinkhorn
    groups, the class averaging of L_cbl, the momentum statistics) and the
    TAAP class gating are computed per chunk of ``chunk_size`` samples of
    a process's batch (the released run: 8 GPUs x 6 = ``chunk_size=6``),
    so they do not depend on how a global batch is spread over processes.
    L_cbl is the mean over all chunks and L_tap the mean over all positive
    cells of the *global* batch: under DDP both are normalised by counts
    summed over ranks (one ``all_reduce`` of two numbers per step), so
    that the averaged gradients equal those of one process holding the
    whole batch. ``chunk_size=None`` makes the whole local batch one chunk.

    ``chunk_average`` says how L_cbl combines the chunks: ``'chunk'`` (the
    reference's ``DataParallel``: the mean over chunks of each chunk's
    ``sum_k CE_k / K``) lets a class that only some chunks hold lose weight
    in proportion — with many classes and small chunks most classes are
    absent from most chunks, so the loss of rare classes is diluted by the
    number of chunks. ``'class'`` averages each class's CE over the chunks
    (of all ranks) that hold samples of it, then sums over classes and
    divides by K: a class weighs the same whatever the chunking, and one
    chunk gives the reference's value.

    **DDP without unused parameters.** Before the warm-up the prototypes
    take part in the loss with weight 0 (``zero_touch``), so DDP runs with
    ``find_unused_parameters=False``; :class:`SITSTrainStepHook` drops those
    zero gradients before the optimiser step (:meth:`inactive_parameters`)
    so that AdamW starts the prototypes' moments at the warm-up step, as in
    the reference.

    Reference switches (defaults reproduce the reference):

    - ``prototypes.mode``: ``'grad'`` (released 8-GPU run) / ``'ema'``;
      ``prototypes.assignment``, ``prototypes.weight_power``.
    - ``temporal_weight_temperature=1.0``: softmax of averaged attention
      probabilities, nearly uniform (§10 #9); smaller values sharpen it.
      Padded frames join the softmax only if the backbone does not mask
      them (``mask_padded_frames=False``, the reference).
    - ``loss_cbl.class_average``; ``chunk_average='chunk'``.

    Args:
        prototypes (dict): :class:`ExactClassPrototypes` config
            (``num_classes`` and ``embed_dims`` are filled in).
        refiner (dict): :class:`TemporalAffinityRefiner` config.
        loss_cbl (dict): :class:`ClueContrastiveLoss` config (carries
            lambda_1 as ``loss_weight``).
        loss_tap (dict): :class:`RefinementConsistencyLoss` config
            (lambda_2).
        fg_thr (float): mu_h. Defaults to 0.4.
        bg_thr (float): mu_l. Defaults to 0.2.
        proto_start_iter (int): First (1-based) training step of prototype
            learning. Defaults to 4000.
        temporal_weight_temperature (float): Defaults to 1.0.
        chunk_size (int, optional): Samples per chunk. Defaults to None
            (the whole local batch).
        chunk_average (str): ``'chunk'`` or ``'class'`` (see above).
            Defaults to ``'chunk'`` (the reference).
        **kwargs: Passed to :class:`SITSCAMHead`.
    """

    def __init__(self,
                 prototypes: ConfigType = dict(type='ExactClassPrototypes'),
                 refiner: ConfigType = dict(type='TemporalAffinityRefiner'),
                 loss_cbl: ConfigType = dict(type='ClueContrastiveLoss'),
                 loss_tap: ConfigType = dict(
                     type='RefinementConsistencyLoss'),
                 fg_thr: float = 0.4,
                 bg_thr: float = 0.2,
                 proto_start_iter: int = 4000,
                 temporal_weight_temperature: float = 1.0,
                 chunk_size: Optional[int] = None,
                 chunk_average: str = 'chunk',
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if chunk_size is not None and chunk_size < 1:
            raise ValueError(f'chunk_size must be >= 1, got {chunk_size}')
        if chunk_average not in ('chunk', 'class'):
            raise ValueError("chunk_average must be 'chunk' or 'class', "
                             f'got {chunk_average!r}')
        self.chunk_average = chunk_average
        proto_cfg = dict(prototypes)
        proto_cfg.setdefault('num_classes', self.num_fg)
        proto_cfg.setdefault('embed_dims', self.in_channels)
        self.prototypes = MODELS.build(proto_cfg)
        self.refiner = MODELS.build(refiner)
        self.loss_cbl = MODELS.build(loss_cbl)
        self.loss_tap = MODELS.build(loss_tap)
        self.fg_thr = fg_thr
        self.bg_thr = bg_thr
        self.proto_start_iter = proto_start_iter
        self.temporal_weight_temperature = temporal_weight_temperature
        self.chunk_size = chunk_size
        self.train_step = 1
        self._protos_used = False

    # ------------------------------------------------------------------
    # training progress
    def set_train_step(self, step: int) -> None:
        """Set the 1-based step of the next :meth:`loss` call."""
        self.train_step = int(step)

    @property
    def prototypes_active(self) -> bool:
        """Whether the next :meth:`loss` call learns the prototypes."""
        return self.train_step >= self.proto_start_iter

    def inactive_parameters(self) -> List[nn.Parameter]:
        """Parameters that only got a zero gradient in the last step.

        :class:`SITSTrainStepHook` sets their ``grad`` to None before the
        optimiser step, so that the optimiser skips them (as if they had
        not been in the graph).
        """
        if self._protos_used:
            return []
        return [p for p in self.prototypes.parameters() if p.requires_grad]

    def check_train_schedule(self, schedule: dict) -> None:
        """Stop a run whose schedule misses the prototype warm-up.

        Args:
            schedule (dict): From :class:`SITSTrainStepHook`:
                ``last_step`` (step of the last iteration) and
                ``checkpoint_steps`` (steps after which the checkpoints
                that are kept are written), in base-batch iterations;
                ``describe`` (str) says how iterations are counted.

        Raises:
            ValueError: If prototype learning never starts, or fewer than
            two kept checkpoints come after its start (the threshold sweep
            of ``tools/exact/generate_pseudo_labels.py`` needs them).
        """
        start, last = self.proto_start_iter, schedule['last_step']
        what = schedule.get('describe', '')
        if last < start:
            raise ValueError(
                f'prototype learning starts at step {start} '
                f'(decode_head.proto_start_iter) but training ends at step '
                f'{last}{what}: the CB-CAMs would come from untrained '
                'prototypes. Train longer (train_cfg.max_epochs), lower '
                'proto_start_iter, or use the config made for your number '
                'of GPUs and batch size.')
        after = [s for s in schedule.get('checkpoint_steps', ())
                 if s >= start]
        if len(after) < 2:
            raise ValueError(
                f'only {len(after)} kept checkpoint(s) after the prototype '
                f'warm-up (step {start}) up to the last step {last}{what}; '
                'the pseudo-label sweep needs at least 2. Lower '
                'default_hooks.checkpoint.interval, raise max_keep_ckpts, '
                'or train longer.')

    # ------------------------------------------------------------------
    def refine(self, clue: Tensor, maps: Tensor, labels: Tensor) -> Tensor:
        """TAAP of maps (B, K, h, w) for the classes present in the batch.

        Classes no image of the batch (chunk) has are not refined and get a
        zero map, as in the reference.
        """
        out = maps.new_zeros(maps.shape, dtype=torch.float32)
        present = torch.nonzero(labels.any(dim=0)).flatten()
        if present.numel():
            out[:, present] = self.refiner(clue[:, present],
                                           maps[:, present]).float()
        return out

    def chunks(self, batch: int) -> List[slice]:
        """Slices of ``chunk_size`` samples covering a batch of ``batch``."""
        size = self.chunk_size or max(batch, 1)
        return [slice(i, min(i + size, batch)) for i in range(0, batch, size)]

    def fusion_and_refined(self, inputs: Dict[str, Tensor],
                           outputs: Dict[str, Tensor],
                           labels: Tensor) -> Tuple[Tensor, Tensor]:
        """Fusion CAM M and ``M~ = (TAAP(V, M) + M) / 2``, (B, K, h, w).

        Both float32, with gradient; TAAP is gated per chunk.
        """
        fusion = self.fusion_cam(outputs)
        clue = self.temporal_clue(inputs)
        with torch.autocast(fusion.device.type, enabled=False):
            refined = torch.cat([
                (self.refine(clue[sl], fusion[sl], labels[sl]) + fusion[sl])
                / 2 for sl in self.chunks(fusion.shape[0])
            ])
        return fusion, refined

    def _global_counts(self, labels: Tensor, cells: int,
                       num_chunks: int) -> Tuple[float, float]:
        """(positive cells, chunks) of the global batch, each divided by
        the world size: the per-rank normalisers that make DDP's averaged
        gradients those of the whole batch."""
        counts = torch.stack([
            labels.sum().clamp(min=0).float(),
            labels.new_tensor(float(num_chunks))
        ]).float()
        world = 1
        if is_distributed() and get_world_size() > 1:
            world = get_world_size()
            dist.all_reduce(counts)
        positives, chunks = counts.tolist()
        return max(positives, 1.) * cells / world, chunks / world

    def _select(self, cam: Tensor, labels: Tensor,
                polarity: str) -> Tuple[Tensor, Tensor, Tensor]:
        """Indices (b, k, n) of the samples of a pass; cam (B, K, N)."""
        if polarity == 'fg':
            pick = (labels[:, :, None] > 0) & (cam >= self.fg_thr)
        else:
            pick = cam < self.bg_thr
        return pick.nonzero(as_tuple=True)

    def _class_chunk_counts(self, picks: Dict[str, list]
                            ) -> Dict[str, Tensor]:
        """Per polarity, the number of chunks of the global batch that hold
        samples of each class, divided by the world size (K, ): the
        per-class normalisers of ``chunk_average='class'``.

        Under DDP one ``all_reduce`` of 2 K numbers.
        """
        num = self.prototypes.num_classes
        counts = []
        for polarity in ('fg', 'bg'):
            present = [
                torch.bincount(ki, minlength=num) > 0
                for _, ki, _ in picks[polarity]
            ]
            counts.append(torch.stack(present).sum(0).float())
        counts = torch.cat(counts)
        world = 1
        if is_distributed() and get_world_size() > 1:
            world = get_world_size()
            dist.all_reduce(counts)
        counts = counts.clamp(min=1) / world
        return dict(fg=counts[:num], bg=counts[num:])

    def prototype_step(self, feats: Tensor, cam: Tensor, labels: Tensor,
                       avg_factor: Optional[float] = None) -> Tensor:
        """One step of prototype learning; returns L_cbl.

        Foreground pass over every chunk, the foreground momentum update,
        then the background pass (whose contrast set holds the updated
        foreground prototypes, detached) and the background update
        (exact-method.md §4.3).

        Args:
            feats (Tensor): Pixel features (B, K, N, d), e.g. the temporal
                class features; normalised here.
            cam (Tensor): Max-normalised fusion CAM (B, K, N) in [0, 1];
                picks and weights the samples (no gradient).
            labels (Tensor): Image-level labels (B, K).
            avg_factor (float, optional): Chunks to average over; defaults
                to the number of local chunks.

        Returns:
            Tensor: L_cbl (weighted by ``loss_cbl.loss_weight``).
        """
        protos = self.prototypes
        chunks = self.chunks(feats.shape[0])
        if avg_factor is None:
            avg_factor = float(len(chunks))
        cam = cam.detach()
        picks = {
            polarity: [self._select(cam[sl], labels[sl], polarity)
                       for sl in chunks]
            for polarity in ('fg', 'bg')
        }
        factors = dict(fg=avg_factor, bg=avg_factor)
        if self.chunk_average == 'class':
            factors = self._class_chunk_counts(picks)
        total = feats.new_zeros((), dtype=torch.float32)
        fg_next = None
        for polarity in ('fg', 'bg'):
            stats = []
            for c, sl in enumerate(chunks):
                bi, ki, ni = picks[polarity][c]
                if ki.numel() == 0:
                    stats.append(protos.empty_statistics())
                    continue
                x = F.normalize(feats[sl][bi, ki, ni].float(), dim=-1)
                soft, hard = protos.assign(polarity, x, ki)
                fg_bank = protos.fg if polarity == 'fg' else \
                    fg_next[c].detach()
                total = total + self.loss_cbl(
                    x, ki, hard, fg_bank, protos.bg, polarity,
                    avg_factor=factors[polarity])
                stats.append(
                    protos.statistics(x, ki, cam[sl][bi, ki, ni], soft,
                                      hard))
            updated = protos.update(polarity, stats)
            if polarity == 'fg':
                fg_next = updated
        return total

    def loss(self, inputs: Dict[str, Tensor], batch_data_samples: SampleList,
             train_cfg: Optional[ConfigType] = None) -> Dict[str, Tensor]:
        """Classification losses, L_tap and (after the warm-up) L_cbl."""
        step, self.train_step = self.train_step, self.train_step + 1
        outputs = self.forward(inputs)
        losses = self.loss_by_feat(outputs, batch_data_samples)
        labels = self.image_labels(batch_data_samples).to(
            outputs['cls_logits'].device)
        fusion, refined = self.fusion_and_refined(inputs, outputs, labels)
        cells = fusion.shape[-2] * fusion.shape[-1]
        tap_avg, chunk_avg = self._global_counts(
            labels, cells, len(self.chunks(fusion.shape[0])))
        with torch.autocast(fusion.device.type, enabled=False):
            losses[self.loss_tap.loss_name] = self.loss_tap(
                refined, fusion, labels, avg_factor=tap_avg)
            self._protos_used = step >= self.proto_start_iter
            if self._protos_used:
                feats = inputs['temporal_cls'].permute(0, 2, 1, 3)
                flat = fusion.detach().flatten(2)
                cam = flat / (flat.max(dim=-1, keepdim=True)[0] + 1e-5)
                cbl = self.prototype_step(feats, cam, labels, chunk_avg)
            else:
                cbl = fusion.new_zeros(())
            # the prototypes always take part (DDP needs no unused-
            # parameter search); their gradient from this term is zero
            losses[self.loss_cbl.loss_name] = cbl + \
                self.prototypes.zero_touch()
        # prototype health (logged, not losses: no 'loss' in the names)
        health = self.prototypes.health()
        dev = outputs['cls_logits'].device
        losses['proto_norm_fg'] = health['norm_fg'].mean().to(dev)
        losses['proto_norm_bg'] = health['norm_bg'].mean().to(dev)
        losses['proto_clamp'] = torch.maximum(
            health['clamp_fg'], health['clamp_bg']).to(dev)
        return losses

    # ------------------------------------------------------------------
    def raw_cams(self, inputs: Dict[str, Tensor],
                 outputs: Dict[str, Tensor], labels: Tensor) -> Tensor:
        """CB-CAM (B, K, h, w) before gating and normalisation (§7.1),
        float32."""
        clue = self.temporal_clue(inputs)
        with torch.autocast(clue.device.type, enabled=False):
            fg, bg = (p.float() for p in self.prototypes.normalized())
            f = F.normalize(
                inputs['temporal_cls'].permute(0, 2, 1, 3).float(), dim=-1)
            s_fg = torch.einsum('bknd,kjd->bknj', f, fg).max(dim=-1)[0]
            s_bg = torch.einsum('bknd,kjd->bknj', f, bg).max(dim=-1)[0]
            grid = self._check(inputs)
            cams = (s_fg - s_bg).relu().view(*s_fg.shape[:2], *grid)
            return (cams + self.refine(clue, cams, labels)) / 2
