# Copyright (c) mmexact contributors. All rights reserved.
import logging
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.distributed as dist
import torch.nn.functional as F
from mmengine.dist import get_world_size, is_distributed
from mmengine.logging import print_log
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmseg.registry import MODELS
from ..models.utils import sinkhorn_knopp_grouped

__all__ = ['ExactClassPrototypes']

#: statistics of one chunk for the momentum update: (nums (K, N_p, d),
#: counts (K, N_p))
Stats = Tuple[Tensor, Tensor]


@MODELS.register_module()
class ExactClassPrototypes(BaseModule):
    """Class-wise foreground / background prototypes (Exact's spatial clues).

    Holds ``fg`` and ``bg`` tensors of shape (K, N_p, d), initialised
    truncated-normal (std 0.02), and everything that reads or changes them
    in a training step (exact-method.md §4): the equal-partition
    assignment of samples to the prototypes of their class
    (:meth:`assign`), the statistics of the momentum update
    (:meth:`statistics`) and the update itself (:meth:`update`). Losses
    only read the prototypes.

    Two modes (exact-method.md §10 #1):

    - ``'grad'``: trainable parameters, updated by the optimiser through
      the clue contrastive loss and never renormalised: what happens in the
      released 8-GPU ``DataParallel`` run (its momentum update is lost on
      the replicas), so it reproduces the published results. Default.
      :meth:`update` then only returns, per chunk, the momentum-updated
      copy that the reference's replica uses as the (detached) foreground
      prototypes of its background pass.
    - ``'ema'``: buffers updated in place under ``no_grad`` by the momentum
      rule of the paper ``P <- normalise(a P + (1 - a) normalise(num))``.
      The statistics of all chunks — and, under DDP, of all ranks (one
      ``all_reduce`` per polarity and step, whatever the local batch) — are
      summed first, so every rank applies the same update and the result
      does not depend on how the batch is split over processes.

    Reference switches (defaults reproduce the reference):

    - ``assignment='gumbel'``: the momentum statistics use a hard
      Gumbel-softmax sample drawn *treating the Sinkhorn probabilities as
      logits* (temperature ``gumbel_tau``) while the contrast target is
      their argmax (§10 #7); ``'argmax'`` uses the argmax for both
      (deterministic).
    - ``weight_power=2``: features enter the momentum numerator weighted by
      the CAM value squared (§10 #8); 1 weights them linearly.

    Args:
        num_classes (int): K. Defaults to 18.
        num_prototypes (int): N_p per class and polarity. Defaults to 2.
        embed_dims (int): d. Defaults to 128.
        mode (str): ``'grad'`` or ``'ema'``. Defaults to ``'grad'``.
        momentum (float): a of the momentum rule. Defaults to 0.999.
        sinkhorn_eps (float): Entropy regularisation. Defaults to 0.05.
        sinkhorn_iters (int): Sinkhorn rounds. Defaults to 3.
        assignment (str): ``'gumbel'`` or ``'argmax'``.
        gumbel_tau (float): Defaults to 0.5.
        weight_power (float): Defaults to 2.
        init_std (float): Std of the truncated normal init.
        normalized_scores (bool): Sinkhorn scores against unit-norm
            prototypes (a remedy for ``'grad'`` mode, whose prototypes the
            optimiser grows without bound: raw scores then harden the
            assignment and hit the exponent clamp). Defaults to False (the
            reference: raw prototypes).
        init_cfg (dict, optional): Unused (the init above is kept).

    Health: :meth:`health` gives the per-class prototype norms and the
    share of Sinkhorn exponents clamped in the last assignment of each
    polarity (``CBCAMHead`` logs them every step as ``proto_norm_fg``,
    ``proto_norm_bg``, ``proto_clamp``); the first clamped score logs a
    warning, once per module.
    """

    MODES = ('grad', 'ema')
    POLARITIES = ('fg', 'bg')

    def __init__(self,
                 num_classes: int = 18,
                 num_prototypes: int = 2,
                 embed_dims: int = 128,
                 mode: str = 'grad',
                 momentum: float = 0.999,
                 sinkhorn_eps: float = 0.05,
                 sinkhorn_iters: int = 3,
                 assignment: str = 'gumbel',
                 gumbel_tau: float = 0.5,
                 weight_power: float = 2.,
                 init_std: float = 0.02,
                 normalized_scores: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if mode not in self.MODES:
            raise ValueError(f'mode must be one of {self.MODES}, got {mode!r}')
        if assignment not in ('gumbel', 'argmax'):
            raise ValueError("assignment must be 'gumbel' or 'argmax', got "
                             f'{assignment!r}')
        self.mode = mode
        self.momentum = momentum
        self.num_classes = num_classes
        self.num_prototypes = num_prototypes
        self.sinkhorn_eps = sinkhorn_eps
        self.sinkhorn_iters = sinkhorn_iters
        self.assignment = assignment
        self.gumbel_tau = gumbel_tau
        self.weight_power = weight_power
        self.normalized_scores = normalized_scores
        self._clamped = dict(fg=0., bg=0.)
        self._clamp_warned = False
        shape = (num_classes, num_prototypes, embed_dims)
        fg = nn.init.trunc_normal_(torch.empty(shape), std=init_std)
        bg = nn.init.trunc_normal_(torch.empty(shape), std=init_std)
        if mode == 'grad':
            self.fg = nn.Parameter(fg)
            self.bg = nn.Parameter(bg)
        else:
            self.register_buffer('fg', fg)
            self.register_buffer('bg', bg)

    def init_weights(self) -> None:
        """Keep the truncated-normal init (no ``init_cfg`` override)."""

    def _get(self, polarity: str) -> Tensor:
        if polarity not in self.POLARITIES:
            raise ValueError(f'polarity must be fg or bg, got {polarity!r}')
        return getattr(self, polarity)

    def normalized(self) -> Tuple[Tensor, Tensor]:
        """Row-normalised copies (K, N_p, d) — the module is not modified."""
        return F.normalize(self.fg, dim=-1), F.normalize(self.bg, dim=-1)

    def zero_touch(self) -> Tensor:
        """A zero scalar that depends on the trainable prototypes.

        Added to a loss it makes DDP see the prototypes as used even in
        steps that do not use them (before the warm-up), so DDP runs
        without ``find_unused_parameters``. Their gradient from it is
        exactly zero. In ``ema`` mode (no parameters) a plain zero.
        """
        if self.mode != 'grad':
            return self.fg.new_zeros(())
        return (self.fg.sum() + self.bg.sum()) * 0.

    # ------------------------------------------------------------------
    @torch.no_grad()
    def assign(self, polarity: str, feats: Tensor,
               classes: Tensor) -> Tuple[Tensor, Tensor]:
        """Equal-partition assignment of samples to their class's prototypes.

        Sinkhorn-Knopp on the raw scores ``x . P[k, j]`` (the current,
        not normalised, prototypes; exact-method.md §4.6; unit-norm ones
        with ``normalized_scores``), run separately for every class. The
        share of clamped exponents is kept for :meth:`health`.

        Args:
            polarity (str): ``'fg'`` or ``'bg'``.
            feats (Tensor): Unit-norm sample features (M, d).
            classes (Tensor): Class of every sample (M, ), long.

        Returns:
            tuple[Tensor, Tensor]: Soft assignment (M, N_p), rows summing
            to 1, and the hard one (its row argmax, the contrast target)
            (M, ).
        """
        protos = self._get(polarity).detach().float()
        if self.normalized_scores:
            protos = F.normalize(protos, dim=-1)
        k, n_p, d = protos.shape
        # scores against every prototype (M, K * N_p) — far smaller than
        # gathering an (M, N_p, d) copy of the prototypes — then the class's
        raw = (feats.detach().float() @ protos.reshape(-1, d).t()).view(
            -1, k, n_p)
        scores = raw[torch.arange(classes.numel(), device=raw.device),
                     classes]
        soft, hard, clamped = sinkhorn_knopp_grouped(
            scores, classes, self.num_classes, self.sinkhorn_eps,
            self.sinkhorn_iters, return_clamped=True)
        share = float(clamped)
        self._clamped[polarity] = share
        if share > 0 and not self._clamp_warned:
            self._clamp_warned = True
            norms = self._get(polarity).detach().norm(dim=-1)
            print_log(
                f'ExactClassPrototypes: the Sinkhorn exponent clamp is '
                f'active ({100 * share:.2f} % of the {polarity} scores '
                f'clamped; prototype norms up to {float(norms.max()):.3g}, '
                f'epsilon {self.sinkhorn_eps}): the assignment has '
                'hardened and results now depend on the clamp. '
                'normalized_scores=True scores against unit-norm prototypes',
                logger='current', level=logging.WARNING)
        return soft, hard

    def health(self) -> Dict[str, Tensor]:
        """Prototype norms and clamped Sinkhorn share, for logging.

        Returns:
            dict[str, Tensor]: ``norm_fg`` / ``norm_bg`` (K,): the mean
            norm of each class's prototypes; ``clamp_fg`` / ``clamp_bg``:
            the share of clamped exponents in the last :meth:`assign`.
        """
        with torch.no_grad():
            out = {f'norm_{p}': self._get(p).detach().float().norm(
                dim=-1).mean(dim=-1) for p in self.POLARITIES}
        for p in self.POLARITIES:
            out[f'clamp_{p}'] = torch.tensor(self._clamped[p])
        return out

    @torch.no_grad()
    def statistics(self, feats: Tensor, classes: Tensor, weights: Tensor,
                   soft: Tensor, hard: Tensor) -> Stats:
        """Momentum-update statistics of one chunk of samples.

        With the assignment ``z`` (a Gumbel sample of ``soft`` or the
        one-hot ``hard``) and CAM weights ``m``:
        ``nums[k, j] = sum z_ij m_i^power x_i`` and
        ``counts[k, j] = sum z_ij m_i`` over the samples of class k.

        Args:
            feats (Tensor): Unit-norm sample features (M, d).
            classes (Tensor): Class of every sample (M, ), long.
            weights (Tensor): CAM value of every sample (M, ).
            soft (Tensor): Soft assignment (M, N_p) from :meth:`assign`.
            hard (Tensor): Hard assignment (M, ) from :meth:`assign`.

        Returns:
            tuple[Tensor, Tensor]: nums (K, N_p, d) and counts (K, N_p),
            float32.
        """
        k, n_p = self.num_classes, self.num_prototypes
        d = feats.shape[-1]
        if self.assignment == 'gumbel':
            z = F.gumbel_softmax(soft, tau=self.gumbel_tau, hard=True)
        else:
            z = F.one_hot(hard, n_p).float()
        m = weights.float()[:, None]
        # one (M, K * N_p) assignment matrix: column k * N_p + j
        index = classes[:, None] * n_p + torch.arange(n_p, device=z.device)
        assign = z.new_zeros(z.shape[0], k * n_p).scatter_(1, index, z)
        nums = (assign * m**self.weight_power).t() @ feats.detach().float()
        counts = (assign * m).sum(dim=0)
        return nums.view(k, n_p, d), counts.view(k, n_p)

    def empty_statistics(self) -> Stats:
        """Statistics of a chunk without samples (zeros)."""
        fg = self.fg
        return (fg.new_zeros(fg.shape, dtype=torch.float32),
                fg.new_zeros(fg.shape[:2], dtype=torch.float32))

    def _momentum(self, current: Tensor, nums: Tensor,
                  counts: Tensor) -> Tensor:
        state = current.detach().float().clone()
        upd = counts != 0
        state[upd] = self.momentum * state[upd] + (
            1 - self.momentum) * F.normalize(nums[upd], dim=-1)
        return F.normalize(state, dim=-1).to(current.dtype)

    @torch.no_grad()
    def update(self, polarity: str, stats: Sequence[Stats]) -> List[Tensor]:
        """Apply (``ema``) or compute (``grad``) the momentum update.

        Args:
            polarity (str): ``'fg'`` or ``'bg'``.
            stats (Sequence[tuple]): :meth:`statistics` of every chunk of
                this rank's batch (at least one).

        Returns:
            list[Tensor]: Per chunk, the updated, row-normalised prototypes
            (K, N_p, d), detached. In ``ema`` mode the update uses the sum
            of all chunks' (and, under DDP, all ranks') statistics and is
            written into the module: every entry is the new state. In
            ``grad`` mode each chunk gets the update of its own statistics
            (the reference's replicas) and the module is left unchanged.
        """
        current = self._get(polarity)
        if not stats:
            raise ValueError('update() needs the statistics of at least '
                             'one chunk')
        if self.mode == 'grad':
            return [self._momentum(current, *s) for s in stats]
        nums = torch.stack([s[0] for s in stats]).sum(0)
        counts = torch.stack([s[1] for s in stats]).sum(0)
        if is_distributed() and get_world_size() > 1:
            # one collective per polarity and step on every rank
            flat = torch.cat([nums.flatten(), counts.flatten()])
            dist.all_reduce(flat)
            nums = flat[:nums.numel()].view_as(nums)
            counts = flat[nums.numel():].view_as(counts)
        state = self._momentum(current, nums, counts)
        current.copy_(state)
        return [state] * len(stats)
