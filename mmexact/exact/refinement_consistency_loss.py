# Copyright (c) mmexact contributors. All rights reserved.
from typing import Optional

from torch import Tensor, nn

from mmseg.registry import MODELS

__all__ = ['RefinementConsistencyLoss']


@MODELS.register_module()
class RefinementConsistencyLoss(nn.Module):
    """Masked L1 distance between CAMs and their refinement (Exact's L_tap).

    ``L = loss_weight * sum_{b,k,i,j} l_bk |R_bk(i,j) - M_bk(i,j)| /
    avg_factor`` with ``avg_factor = sum_{b,k} l_bk * h * w`` by default,
    i.e. the mean absolute difference over the cells of the positive
    (image, class) pairs (exact-method.md §3.5, §6.3). No stop-gradient on
    either side. In Exact, R is the TAAP-refined fusion CAM
    ``(TAAP(V, M) + M) / 2``.

    Args:
        loss_weight (float): lambda_2. Defaults to 0.015.
        loss_name (str): Defaults to ``'loss_tap'``.
    """

    def __init__(self,
                 loss_weight: float = 0.015,
                 loss_name: str = 'loss_tap') -> None:
        super().__init__()
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    @property
    def loss_name(self) -> str:
        return self._loss_name

    def forward(self,
                refined: Tensor,
                maps: Tensor,
                labels: Tensor,
                avg_factor: Optional[float] = None) -> Tensor:
        """Compute the loss.

        Args:
            refined (Tensor): Refined maps (B, K, h, w).
            maps (Tensor): Maps before refinement (B, K, h, w).
            labels (Tensor): Image-level multi-hot labels (B, K).
            avg_factor (float, optional): Normaliser; defaults to the
                number of positive cells ``labels.sum() * h * w``
                (at least 1).

        Returns:
            Tensor: Scalar loss.
        """
        if refined.shape != maps.shape or labels.shape != maps.shape[:2]:
            raise ValueError(f'shapes do not match: refined '
                             f'{tuple(refined.shape)}, maps '
                             f'{tuple(maps.shape)}, labels '
                             f'{tuple(labels.shape)}')
        diff = ((refined - maps).abs() * labels[..., None, None]).sum()
        if avg_factor is None:
            cells = maps.shape[-2] * maps.shape[-1]
            avg_factor = float(labels.sum().clamp(min=1)) * cells
        return self.loss_weight * diff / avg_factor
