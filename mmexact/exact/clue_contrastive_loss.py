# Copyright (c) mmexact contributors. All rights reserved.
from typing import Optional, Union

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmseg.registry import MODELS

__all__ = ['ClueContrastiveLoss']


@MODELS.register_module()
class ClueContrastiveLoss(nn.Module):
    """Clue-based contrastive loss L_cbl of Exact (exact-method.md §4.3-4.4).

    One polarity pass: every sample (a pixel feature of class k picked as
    foreground or background of k) is classified among all ``2 K N_p``
    prototypes — the foreground prototypes of every class, then the
    background ones — by cosine similarity / ``temperature``, with
    cross-entropy against its target prototype ``j`` (foreground pass:
    index ``N_p k + j``; background pass: ``K N_p + N_p k + j``). The loss
    is the mean CE of each class, summed over classes and divided by K.

    A pure function of its inputs: which samples enter, and their targets
    (the Sinkhorn assignment), come from the caller (:class:`CBCAMHead`,
    :class:`ExactClassPrototypes`); the prototypes are only read.

    Reference switch: ``class_average='all'`` divides by K even when some
    classes have no samples (§10 #6); ``'present'`` averages over the
    classes that have.

    Args:
        temperature (float): tau of the contrast. Defaults to 0.1.
        class_average (str): ``'all'`` or ``'present'``.
        loss_weight (float): lambda_1. Defaults to 0.01.
        loss_name (str): Defaults to ``'loss_cbl'``.
    """

    def __init__(self,
                 temperature: float = 0.1,
                 class_average: str = 'all',
                 loss_weight: float = 0.01,
                 loss_name: str = 'loss_cbl') -> None:
        super().__init__()
        if class_average not in ('all', 'present'):
            raise ValueError("class_average must be 'all' or 'present'")
        self.temperature = temperature
        self.class_average = class_average
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    @property
    def loss_name(self) -> str:
        return self._loss_name

    def forward(self,
                feats: Tensor,
                classes: Tensor,
                targets: Tensor,
                fg_protos: Tensor,
                bg_protos: Tensor,
                polarity: str,
                avg_factor: Optional[Union[float, Tensor]] = None
                ) -> Tensor:
        """Compute the loss of one polarity pass.

        Args:
            feats (Tensor): Sample features (M, d); normalised here.
            classes (Tensor): Class of every sample (M, ), long.
            targets (Tensor): Target prototype ``j`` in 0..N_p-1 (M, ).
            fg_protos (Tensor): Foreground prototypes (K, N_p, d).
            bg_protos (Tensor): Background prototypes (K, N_p, d).
            polarity (str): ``'fg'`` or ``'bg'`` (which half of the bank
                holds the targets).
            avg_factor (float | Tensor, optional): Divide the result by
                it (e.g. the number of chunks the caller sums over); a
                (K, ) tensor divides each class's CE by its own factor
                (e.g. the number of chunks that hold the class).

        Returns:
            Tensor: ``loss_weight * sum_k mean_i CE_i / K`` (scalar);
            0 without samples.
        """
        if polarity not in ('fg', 'bg'):
            raise ValueError(f'polarity must be fg or bg, got {polarity!r}')
        k_num, n_p, d = fg_protos.shape
        if feats.shape[0] == 0:
            # keeps the graph connected to the features, value 0
            loss = feats.sum() * 0.
        else:
            bank = torch.cat([
                F.normalize(fg_protos, dim=-1).reshape(-1, d),
                F.normalize(bg_protos, dim=-1).reshape(-1, d)
            ])
            offset = 0 if polarity == 'fg' else k_num * n_p
            ce = F.cross_entropy(
                F.normalize(feats, dim=-1) @ bank.t() / self.temperature,
                offset + n_p * classes + targets,
                reduction='none')
            per_class = torch.bincount(classes, minlength=k_num).to(ce)
            if torch.is_tensor(avg_factor):  # per-class factors
                per_class = per_class * avg_factor.to(ce)
                avg_factor = None
            total = (ce / per_class[classes]).sum()  # sum_k CE_k
            denom = k_num if self.class_average == 'all' else \
                int((per_class > 0).sum())
            loss = total / denom
        if avg_factor is not None and not torch.is_tensor(avg_factor):
            loss = loss / avg_factor
        return self.loss_weight * loss
