# Copyright (c) mmexact contributors. All rights reserved.
import math
from typing import Dict, Optional, Union

from mmengine.dist import get_world_size
from mmengine.hooks import CheckpointHook
from mmengine.logging import print_log
from mmengine.runner import IterBasedTrainLoop
from torch.utils.data import DataLoader

from mmseg.registry import LOOPS
from ..hooks.rng_state_hook import set_rng_state

__all__ = ['IterBasedEpochTrainLoop']


@LOOPS.register_module()
class IterBasedEpochTrainLoop(IterBasedTrainLoop):
    """``IterBasedTrainLoop`` whose length may be given in epochs and whose
    iteration counts may refer to a base batch size.

    **Epochs.** Exact's schedules are defined in epochs (20 for stage 1,
    100 for stage 2) while validation and checkpoints happen every N
    iterations, and an iteration-based loop is what lets ``--resume``
    continue exactly (MMEngine skips the already consumed batches; with
    :class:`RNGStateHook` the random generators are restored after that
    skip, so a resumed run is identical). With ``max_epochs`` the loop runs
    ``max_epochs * len(dataloader)`` iterations; pair it with
    ``DefaultSampler(shuffle=True)`` to get true epochs (a fresh
    permutation per epoch, last batch possibly smaller), as the reference
    does. ``len(dataloader)`` is per process, so epochs mean the same on
    any number of GPUs.

    **Length of the schedule.** :attr:`max_epochs` is what MMEngine's
    Runner gives epoch-based parameter schedulers that leave ``end`` out
    (e.g. :class:`WarmupCosineEpochLR`), so ``train_cfg.max_epochs`` alone
    sets the schedule's length. With ``max_iters`` only, the loop's length
    in epochs is ``ceil(max_iters / len(dataloader))`` (the last one
    possibly partial; not MMEngine's 1). With both, the schedule is
    ``max_epochs`` long and the run stops after ``max_iters`` iterations
    (if that comes first): the first iterations of the full schedule, e.g.
    a smoke run (``tools/demo/run_baselines.py --mini``).

    **Base batch.** With ``base_batch_size`` every quantity the config
    counts in iterations means iterations of a global batch of that many
    samples (like ``auto_scale_lr.base_batch_size`` for the learning
    rate). When the actual global batch ``world_size * batch_size``
    differs, the loop converts them once, at build time, by
    ``scale = base_batch_size / global_batch`` (rounded, at least 1):
    ``max_iters``, ``val_begin``, ``val_interval``, the dynamic intervals,
    the interval of every iteration-based ``CheckpointHook``, and
    ``begin`` / ``end`` of iteration-based parameter schedulers. Training
    steps of the model (e.g. Exact's prototype warm-up) are converted by
    :meth:`schedule_step` through :class:`SITSTrainStepHook`. The loop logs
    what it converted.

    Args:
        runner (Runner): The runner.
        dataloader (DataLoader | dict): Training dataloader.
        max_epochs (int, optional): Length in epochs.
        max_iters (int, optional): Length in iterations; with
            ``max_epochs``, the iteration after which the run stops.
        base_batch_size (int, optional): Global batch the iteration counts
            refer to. Defaults to None (iterations are actual iterations).
        **kwargs: ``val_begin``, ``val_interval``, ``dynamic_intervals``.
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 max_epochs: Optional[int] = None,
                 max_iters: Optional[int] = None,
                 base_batch_size: Optional[int] = None,
                 **kwargs) -> None:
        if max_epochs is None and max_iters is None:
            raise ValueError('give max_epochs, max_iters or both')
        if base_batch_size is not None and base_batch_size < 1:
            raise ValueError('base_batch_size must be a positive integer')
        super().__init__(runner, dataloader, max_iters=max_iters or 1,
                         **kwargs)
        self.iters_per_epoch = len(self.dataloader)
        self.base_batch_size = base_batch_size
        batch = getattr(self.dataloader, 'batch_size', None) or 1
        self.global_batch_size = batch * get_world_size()
        self.batch_scale = 1.0 if base_batch_size is None else \
            self.global_batch_size / base_batch_size
        if max_epochs is not None:
            self._max_iters = int(max_epochs) * self.iters_per_epoch
            self._max_epochs = int(max_epochs)
            if max_iters is not None:  # a run cut short
                self._max_iters = min(self._max_iters,
                                      self.to_iters(max_iters))
        else:
            self._max_iters = self.to_iters(max_iters)
            self._max_epochs = math.ceil(self._max_iters /
                                         max(self.iters_per_epoch, 1))
        if self.batch_scale != 1.0:
            self._convert_intervals(runner)
        self._rng_pending = None
        self.dataloader_iterator = _RNGRestoringIterator(
            self.dataloader_iterator, self)

    # ------------------------------------------------------------------
    def to_iters(self, base_iters: Union[int, float]) -> int:
        """Actual iterations for a count in base-batch iterations."""
        if base_iters is None or math.isinf(base_iters):
            return base_iters
        return max(1, int(round(base_iters / self.batch_scale)))

    def schedule_step(self, it: int) -> int:
        """1-based training step, in base-batch iterations, of the 0-based
        actual iteration ``it``: ``floor(it * global / base) + 1``."""
        return int(math.floor(it * self.batch_scale + 1e-9)) + 1

    def _convert_intervals(self, runner) -> None:
        """Convert the iteration counts of the config (see class doc)."""
        done = []
        self.val_begin = self.to_iters(self.val_begin)
        self.val_interval = self.to_iters(self.val_interval)
        done.append(f'val_interval -> {self.val_interval}')
        self.dynamic_milestones = [
            self.to_iters(m) for m in self.dynamic_milestones
        ]
        self.dynamic_intervals = [
            self.to_iters(i) for i in self.dynamic_intervals
        ]
        for hook in getattr(runner, '_hooks', []):
            if isinstance(hook, CheckpointHook) and not hook.by_epoch:
                hook.interval = self.to_iters(hook.interval)
                done.append(f'checkpoint interval -> {hook.interval}')
        schedulers = getattr(runner, 'param_schedulers', None)
        cfgs = [schedulers] if isinstance(schedulers, dict) else \
            (schedulers if isinstance(schedulers, list) else [])
        for cfg in cfgs:
            if isinstance(cfg, dict) and not cfg.get('by_epoch', True):
                for key in ('begin', 'end'):
                    if key in cfg:
                        cfg[key] = self.to_iters(cfg[key])
                done.append(f'{cfg.get("type")} begin/end -> '
                            f'{cfg.get("begin")}/{cfg.get("end")}')
        print_log(
            f'global batch {self.global_batch_size} '
            f'({get_world_size()} process(es)) differs from the schedule\'s '
            f'base batch {self.base_batch_size}: iteration counts of the '
            f'config are scaled by {1 / self.batch_scale:.4g} '
            f'(max_iters {self._max_iters}, ' + ', '.join(done) + ')',
            logger='current')

    def defer_rng_state(self, state: dict, after_batches: int) -> None:
        """Apply generator ``state`` once ``after_batches`` batches have been
        drawn (i.e. after the resume skip), see :class:`RNGStateHook`."""
        self._rng_pending = (state, after_batches)

    @property
    def epoch(self) -> int:
        """Current (0-based) epoch, derived from the iteration."""
        return self._iter // max(self.iters_per_epoch, 1)


class _RNGRestoringIterator:
    """Wraps the loop's batch iterator to restore RNG states on time."""

    def __init__(self, inner, loop: IterBasedEpochTrainLoop) -> None:
        self.inner = inner
        self.loop = loop
        self.drawn = 0

    def __iter__(self):
        return self

    def __next__(self):
        pending = self.loop._rng_pending
        if pending is not None and self.drawn == pending[1]:
            set_rng_state(pending[0])
            self.loop._rng_pending = None
        self.drawn += 1
        return next(self.inner)
