# Copyright (c) mmexact contributors. All rights reserved.
import math

from mmengine.optim.scheduler.lr_scheduler import LRSchedulerMixin
from mmengine.optim.scheduler.param_scheduler import INF, _ParamScheduler

from mmseg.registry import PARAM_SCHEDULERS

__all__ = ['WarmupCosineEpochLR']


@PARAM_SCHEDULERS.register_module()
class WarmupCosineEpochLR(LRSchedulerMixin, _ParamScheduler):
    """Linear warm-up then cosine decay, piecewise constant per epoch.

    This is the schedule of TSViT and Exact (timm's ``CosineLRScheduler``
    stepped once per epoch, exact-method.md §3.6). For epoch ``e`` (0-based)
    out of ``E = end - begin``, with base LR ``b``::

        lr(e) = s + e / W * (b - s)                          if e < W
        lr(e) = m + (b - m) / 2 * (1 + cos(pi * p))          otherwise

    where ``s`` = ``warmup_start_lr``, ``W`` = ``warmup_epochs``, ``m`` =
    ``eta_min`` and ``p = e / E`` in the reference (the cosine phase counts
    from epoch 0, so the LR jumps at the end of the warm-up), or
    ``p = (e - W) / (E - W)`` with ``cosine_from_warmup_end=True``.

    Use ``by_epoch=True, convert_to_iter_based=True`` with an
    iteration-based loop: the value is then updated every iteration from the
    epoch index ``iteration // epoch_length`` — piecewise constant per epoch
    as in the reference.

    Args:
        optimizer (Optimizer | OptimWrapper): Wrapped optimizer.
        warmup_epochs (int): W. Defaults to 0.
        warmup_start_lr (float): s. Defaults to 0.
        eta_min (float): m. Defaults to 0.
        cosine_from_warmup_end (bool): See above. Defaults to False
            (reference behaviour).
        epoch_length (int): Iterations per epoch when stepping per
            iteration (set by ``convert_to_iter_based``). Defaults to 1.
        begin (int): First epoch (or step) of the schedule. Defaults to 0.
        end (int): End epoch (or step); must be finite.
        last_step (int): For resuming without a state dict.
        by_epoch (bool): Step per epoch. Defaults to True.
        verbose (bool): Print every update.
    """

    def __init__(self,
                 optimizer,
                 warmup_epochs: int = 0,
                 warmup_start_lr: float = 0.,
                 eta_min: float = 0.,
                 cosine_from_warmup_end: bool = False,
                 epoch_length: int = 1,
                 begin: int = 0,
                 end: int = INF,
                 last_step: int = -1,
                 by_epoch: bool = True,
                 verbose: bool = False) -> None:
        if end == INF:
            raise ValueError('WarmupCosineEpochLR needs a finite `end`')
        self.warmup_epochs = warmup_epochs
        self.warmup_start_lr = warmup_start_lr
        self.eta_min = eta_min
        self.cosine_from_warmup_end = cosine_from_warmup_end
        self.epoch_length = epoch_length
        self.total_epochs = (end - begin) // epoch_length
        if warmup_epochs >= self.total_epochs and self.total_epochs > 0 \
                and cosine_from_warmup_end:
            raise ValueError('warmup_epochs must be < the schedule length')
        super().__init__(
            optimizer,
            begin=begin,
            end=end,
            last_step=last_step,
            by_epoch=by_epoch,
            verbose=verbose)

    @classmethod
    def build_iter_from_epoch(cls,
                              *args,
                              begin=0,
                              end=INF,
                              by_epoch=True,
                              epoch_length=None,
                              **kwargs):
        """Build a per-iteration scheduler from epoch-based arguments."""
        assert by_epoch, 'only epoch-based kwargs can be converted'
        assert epoch_length is not None and epoch_length > 0
        return cls(
            *args,
            begin=int(begin * epoch_length),
            end=int(end * epoch_length) if end != INF else end,
            by_epoch=False,
            epoch_length=epoch_length,
            **kwargs)

    def lr_at_epoch(self, base_lr: float, epoch: int) -> float:
        """Closed-form LR of ``epoch`` (0-based)."""
        w, s, m = self.warmup_epochs, self.warmup_start_lr, self.eta_min
        if epoch < w:
            return s + epoch / w * (base_lr - s)
        if self.cosine_from_warmup_end:
            phase = (epoch - w) / max(self.total_epochs - w, 1)
        else:
            phase = epoch / self.total_epochs
        return m + 0.5 * (base_lr - m) * (1 + math.cos(math.pi * phase))

    def _get_value(self):
        epoch = self.last_step // self.epoch_length
        return [self.lr_at_epoch(b, epoch) for b in self.base_values]
