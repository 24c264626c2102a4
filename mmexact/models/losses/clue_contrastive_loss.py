# Copyright (c) mmexact contributors. All rights reserved.
from typing import Callable, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmseg.registry import MODELS
from ..utils import sinkhorn_knopp_grouped

__all__ = ['ClueContrastiveLoss']

UpdateFn = Callable[[str, Tensor, Tensor], Tensor]


@MODELS.register_module()
class ClueContrastiveLoss(nn.Module):
    """Clue-based contrastive loss L_cbl of Exact (exact-method.md §4.3-4.4).

    For every class k, pixels whose normalised CAM is high (``>= fg_thr``, in
    images labelled with k) are foreground samples and pixels whose CAM is
    low (``< bg_thr``, any image) background samples of k. Each sample is
    assigned to one of the N_p prototypes of its class and polarity by
    Sinkhorn-Knopp on the raw prototype scores, then classified among all
    ``2 K N_p`` prototypes (cosine / ``temperature``, cross-entropy) with
    that prototype as target. The foreground pass runs first; its momentum
    statistics go to ``update_fn`` and the prototypes it returns (detached)
    stand for the foreground prototypes in the background pass.

    Reference quirks, with switches (defaults reproduce the reference):

    - ``class_average='all'``: each pass is ``sum_k CE_k / K`` even when
      classes have no samples (§10 #6); ``'present'`` averages over the
      classes that contributed.
    - ``ema_assignment='gumbel'``: the momentum statistics use a hard
      Gumbel-softmax sample drawn *treating the Sinkhorn probabilities as
      logits* (temperature 0.5) while the CE target uses their argmax
      (§10 #7); ``'argmax'`` uses the argmax for both.
    - ``ema_weight_power=2``: features enter the momentum numerator weighted
      by the CAM value squared (§10 #8); 1 weights them linearly.

    Args:
        fg_thr (float): mu_h. Defaults to 0.4.
        bg_thr (float): mu_l. Defaults to 0.2.
        temperature (float): tau of the contrast. Defaults to 0.1.
        sinkhorn_eps (float): Defaults to 0.05.
        sinkhorn_iters (int): Defaults to 3.
        gumbel_tau (float): Defaults to 0.5.
        class_average (str): ``'all'`` or ``'present'``.
        ema_assignment (str): ``'gumbel'`` or ``'argmax'``.
        ema_weight_power (float): Defaults to 2.
        loss_weight (float): lambda_1. Defaults to 0.01.
        loss_name (str): Defaults to ``'loss_cbl'``.
    """

    def __init__(self,
                 fg_thr: float = 0.4,
                 bg_thr: float = 0.2,
                 temperature: float = 0.1,
                 sinkhorn_eps: float = 0.05,
                 sinkhorn_iters: int = 3,
                 gumbel_tau: float = 0.5,
                 class_average: str = 'all',
                 ema_assignment: str = 'gumbel',
                 ema_weight_power: float = 2.,
                 loss_weight: float = 0.01,
                 loss_name: str = 'loss_cbl') -> None:
        super().__init__()
        if class_average not in ('all', 'present'):
            raise ValueError("class_average must be 'all' or 'present'")
        if ema_assignment not in ('gumbel', 'argmax'):
            raise ValueError("ema_assignment must be 'gumbel' or 'argmax'")
        self.fg_thr = fg_thr
        self.bg_thr = bg_thr
        self.temperature = temperature
        self.sinkhorn_eps = sinkhorn_eps
        self.sinkhorn_iters = sinkhorn_iters
        self.gumbel_tau = gumbel_tau
        self.class_average = class_average
        self.ema_assignment = ema_assignment
        self.ema_weight_power = ema_weight_power
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    @property
    def loss_name(self) -> str:
        return self._loss_name

    def _pass(self, feats: Tensor, cam: Tensor, labels: Tensor,
              own: Tensor, fg_all: Tensor, bg_all: Tensor,
              foreground: bool) -> Tuple[Tensor, Tensor, Tensor]:
        """One polarity pass over all classes at once.

        Samples of every class are gathered with one index, assigned with a
        class-grouped Sinkhorn and contrasted with one matmul; per-class
        means and momentum statistics are formed with ``bincount`` /
        one-hot matmuls. Returns (loss, nums (K, N_p, d), counts (K, N_p)).
        """
        b, k_num, n, d = feats.shape
        n_p = own.shape[1]
        nums = feats.new_zeros(k_num, n_p, d, dtype=torch.float32)
        counts = feats.new_zeros(k_num, n_p, dtype=torch.float32)
        if foreground:
            pick = (labels[:, :, None] > 0) & (cam >= self.fg_thr)
        else:
            pick = cam < self.bg_thr
        bi, ki, ni = pick.nonzero(as_tuple=True)
        if ki.numel() == 0:
            return feats.new_zeros(()), nums, counts
        x = feats[bi, ki, ni]  # (M, d), unit rows
        with torch.no_grad():
            raw = (x.detach() @ own.detach().reshape(-1, d).t()).view(
                -1, k_num, n_p)
            scores = raw[torch.arange(ki.numel(), device=ki.device), ki]
            q, hard = sinkhorn_knopp_grouped(scores, ki, k_num,
                                             self.sinkhorn_eps,
                                             self.sinkhorn_iters)
        # (2 K N_p, d) unit prototypes: the contrast set of every sample
        bank = torch.cat([
            F.normalize(fg_all, dim=-1).reshape(-1, d),
            F.normalize(bg_all, dim=-1).reshape(-1, d)
        ])
        offset = 0 if foreground else k_num * n_p
        ce = F.cross_entropy(
            x @ bank.t() / self.temperature,
            offset + n_p * ki + hard,
            reduction='none')
        per_class = torch.bincount(ki, minlength=k_num).to(ce)
        total = (ce / per_class[ki]).sum()  # sum over classes of CE_k
        denom = k_num if self.class_average == 'all' else \
            int((per_class > 0).sum())
        with torch.no_grad():
            if self.ema_assignment == 'gumbel':
                assign = F.gumbel_softmax(q, tau=self.gumbel_tau, hard=True)
            else:
                assign = F.one_hot(hard, n_p).float()
            m = cam[bi, ki, ni].float()[:, None]
            onehot = F.one_hot(ki, k_num).float()  # (M, K)
            weights = assign * m**self.ema_weight_power
            xf = x.detach().float()
            for j in range(n_p):
                nums[:, j] = (onehot * weights[:, j:j + 1]).t() @ xf
            counts.copy_(onehot.t() @ (assign * m))
        return total / denom, nums, counts

    def forward(self,
                feats: Tensor,
                cam: Tensor,
                labels: Tensor,
                fg_protos: Tensor,
                bg_protos: Tensor,
                update_fn: Optional[UpdateFn] = None) -> Tensor:
        """Compute the loss.

        Args:
            feats (Tensor): Pixel features (B, K, N, d); normalised here.
            cam (Tensor): CAM in [0, 1] (B, K, N), max-normalised per
                (image, class); used to pick and weight pixels only.
            labels (Tensor): Image-level multi-hot labels (B, K).
            fg_protos (Tensor): Foreground prototypes (K, N_p, d).
            bg_protos (Tensor): Background prototypes (K, N_p, d).
            update_fn (callable, optional): ``update_fn(polarity, nums,
                counts)`` applies / computes the momentum update and returns
                the updated prototypes; e.g.
                :meth:`ClassPrototypes.momentum_update`. Without it the
                prototypes are left unchanged.

        Returns:
            Tensor: ``loss_weight * (L_fg + L_bg)``.
        """
        feats = F.normalize(feats, dim=-1)
        cam = cam.detach()
        fg_loss, nums, counts = self._pass(feats, cam, labels, fg_protos,
                                           fg_protos, bg_protos, True)
        fg_next = fg_protos.detach()
        if update_fn is not None:
            fg_next = update_fn('fg', nums, counts).detach()
        bg_loss, nums, counts = self._pass(feats, cam, labels, bg_protos,
                                           fg_next, bg_protos, False)
        if update_fn is not None:
            update_fn('bg', nums, counts)
        return self.loss_weight * (fg_loss + bg_loss)
