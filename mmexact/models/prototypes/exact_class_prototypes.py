# Copyright (c) mmexact contributors. All rights reserved.
from typing import Optional, Tuple

import torch
import torch.distributed as dist
import torch.nn.functional as F
from mmengine.dist import get_world_size, is_distributed
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmseg.registry import MODELS

__all__ = ['ClassPrototypes']


@MODELS.register_module()
class ClassPrototypes(BaseModule):
    """Class-wise foreground / background prototypes (Exact's spatial clues).

    Holds ``fg`` and ``bg`` tensors of shape (K, N_p, d), initialised
    truncated-normal (std 0.02), and is saved in / restored from checkpoints
    in both modes (exact-method.md §4, §10 #1):

    - ``'grad'``: trainable parameters, updated by the optimiser through the
      clue contrastive loss and never renormalised. This is what happens in
      the released 8-GPU ``DataParallel`` run (its momentum update is lost on
      the replicas), so it reproduces the published results. Default.
      Under DDP it needs ``find_unused_parameters=True`` (the prototypes are
      unused before the warm-up iteration).
    - ``'ema'``: buffers updated in place under ``no_grad`` by the momentum
      rule of the paper ``P <- normalise(a P + (1 - a) normalise(num))``;
      the update statistics are all-reduced across DDP ranks first, so every
      rank applies the same update.

    The tensors are never re-assigned; :meth:`momentum_update` writes in
    place (``ema``) or only returns the updated copy (``grad``, where the
    reference uses it as the detached foreground prototypes of the
    background pass).

    Args:
        num_classes (int): K. Defaults to 18.
        num_prototypes (int): N_p per class and polarity. Defaults to 2.
        embed_dims (int): d. Defaults to 128.
        mode (str): ``'grad'`` or ``'ema'``. Defaults to ``'grad'``.
        momentum (float): a of the momentum rule. Defaults to 0.999.
        init_std (float): Std of the truncated normal init.
    """

    MODES = ('grad', 'ema')

    def __init__(self,
                 num_classes: int = 18,
                 num_prototypes: int = 2,
                 embed_dims: int = 128,
                 mode: str = 'grad',
                 momentum: float = 0.999,
                 init_std: float = 0.02,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if mode not in self.MODES:
            raise ValueError(f'mode must be one of {self.MODES}, got {mode!r}')
        self.mode = mode
        self.momentum = momentum
        self.num_prototypes = num_prototypes
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

    def normalized(self) -> Tuple[Tensor, Tensor]:
        """Row-normalised copies (K, N_p, d) — the module is not modified."""
        return F.normalize(self.fg, dim=-1), F.normalize(self.bg, dim=-1)

    @torch.no_grad()
    def momentum_update(self, polarity: str, nums: Tensor,
                        counts: Tensor) -> Tensor:
        """Apply (``ema``) or compute (``grad``) the momentum update.

        Args:
            polarity (str): ``'fg'`` or ``'bg'``.
            nums (Tensor): Weighted feature sums (K, N_p, d) of this rank.
            counts (Tensor): Assignment weights (K, N_p) of this rank.

        Returns:
            Tensor: The updated, row-normalised prototypes (K, N_p, d),
            detached.
        """
        if polarity not in ('fg', 'bg'):
            raise ValueError(f'polarity must be fg or bg, got {polarity!r}')
        current = getattr(self, polarity)
        nums, counts = nums.float(), counts.float()
        if self.mode == 'ema' and is_distributed() and get_world_size() > 1:
            dist.all_reduce(nums)
            dist.all_reduce(counts)
        state = current.detach().float().clone()
        upd = counts != 0
        state[upd] = self.momentum * state[upd] + (
            1 - self.momentum) * F.normalize(nums[upd], dim=-1)
        state = F.normalize(state, dim=-1).to(current.dtype)
        if self.mode == 'ema':
            current.copy_(state)
        return state
