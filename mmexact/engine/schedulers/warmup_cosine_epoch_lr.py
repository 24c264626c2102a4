# Copyright (c) mmexact contributors. All rights reserved.
import math
from typing import Optional

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

    where ``s`` = ``warmup_start_lr``, ``W`` the warm-up length in epochs
    (below), ``m`` = ``eta_min`` and ``p = e / E`` in the reference (the
    cosine phase counts from epoch 0, so the LR jumps at the end of the
    warm-up), or ``p = (e - W) / (E - W)`` with
    ``cosine_from_warmup_end=True``.

    **Length.** Leave ``end`` out of the config: MMEngine's Runner then
    sets it to the train loop's ``max_epochs`` (``runner.max_epochs``)
    before building the scheduler, so that ``--cfg-options
    train_cfg.max_epochs=N`` alone changes the cosine's length (with
    :class:`IterBasedEpochTrainLoop`, ``max_epochs`` is the length in
    epochs even when the run is cut short by ``max_iters``). An explicit
    ``end`` is kept as given. Built outside a Runner, ``end`` is required.

    **Warm-up.** ``warmup_epochs`` is a fixed number of epochs, as in the
    reference schedules (3 of 20 for stage 1, 10 of 100 for stage 2): it
    does not change with the run's length. ``warmup_ratio`` gives it as a
    fraction of the schedule instead, ``W = round(warmup_ratio * E)``
    whole epochs (Python's ``round``: halves go to the even number), so
    that it follows ``max_epochs`` too; the demo schedules use 1/8 (1
    epoch of 8), so that ``tools/demo/run_baselines.py --epochs N`` scales the
    warm-up with the budget. Give one of the two.

    Use ``by_epoch=True, convert_to_iter_based=True`` with an
    iteration-based loop: the value is then updated every iteration from the
    epoch index ``iteration // epoch_length`` — piecewise constant per epoch
    as in the reference.

    Args:
        optimizer (Optimizer | OptimWrapper): Wrapped optimizer.
        warmup_epochs (int): W in epochs. Defaults to 0.
        warmup_ratio (float, optional): W as a fraction of the schedule's
            length in epochs, in [0, 1); excludes ``warmup_epochs``.
            Defaults to None.
        warmup_start_lr (float): s. Defaults to 0.
        eta_min (float): m. Defaults to 0.
        cosine_from_warmup_end (bool): See above. Defaults to False
            (reference behaviour).
        epoch_length (int): Iterations per epoch when stepping per
            iteration (set by ``convert_to_iter_based``). Defaults to 1.
        begin (int): First epoch (or step) of the schedule. Defaults to 0.
        end (int): End epoch (or step); must be finite. Left out of a
            config, the Runner sets the train loop's ``max_epochs``.
        last_step (int): For resuming without a state dict.
        by_epoch (bool): Step per epoch. Defaults to True.
        verbose (bool): Print every update.
    """

    def __init__(self,
                 optimizer,
                 warmup_epochs: int = 0,
                 warmup_ratio: Optional[float] = None,
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
            raise ValueError(
                'WarmupCosineEpochLR needs a finite `end`: give it, or build '
                'the scheduler through the Runner, which sets the train '
                "loop's max_epochs when the config leaves `end` out")
        self.epoch_length = epoch_length
        self.total_epochs = (end - begin) // epoch_length
        if warmup_ratio is not None:
            if warmup_epochs:
                raise ValueError('give warmup_epochs or warmup_ratio, not '
                                 'both')
            if not 0 <= warmup_ratio < 1:
                raise ValueError(
                    f'warmup_ratio must be in [0, 1), got {warmup_ratio}')
            warmup_epochs = round(warmup_ratio * self.total_epochs)
        self.warmup_epochs = warmup_epochs
        self.warmup_ratio = warmup_ratio
        self.warmup_start_lr = warmup_start_lr
        self.eta_min = eta_min
        self.cosine_from_warmup_end = cosine_from_warmup_end
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
