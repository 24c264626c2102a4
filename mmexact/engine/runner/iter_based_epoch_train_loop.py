# Copyright (c) mmexact contributors. All rights reserved.
from typing import Dict, Optional, Union

from mmengine.runner import IterBasedTrainLoop
from torch.utils.data import DataLoader

from mmseg.registry import LOOPS
from ..hooks.rng_state_hook import set_rng_state

__all__ = ['IterBasedEpochTrainLoop']


@LOOPS.register_module()
class IterBasedEpochTrainLoop(IterBasedTrainLoop):
    """``IterBasedTrainLoop`` whose length may be given in epochs.

    Exact's schedules are defined in epochs (20 for stage 1, 100 for
    stage 2) while validation and checkpoints happen every N iterations,
    and an iteration-based loop is what lets ``--resume`` continue exactly
    (MMEngine skips the already consumed batches; with
    :class:`RNGStateHook` the random generators are restored after that
    skip, so a resumed run is identical). With ``max_epochs`` the
    loop runs ``max_epochs * len(dataloader)`` iterations; pair it with
    ``DefaultSampler(shuffle=True)`` to get true epochs (a fresh permutation
    per epoch, last batch possibly smaller), as the reference does.

    Args:
        runner (Runner): The runner.
        dataloader (DataLoader | dict): Training dataloader.
        max_epochs (int, optional): Length in epochs.
        max_iters (int, optional): Length in iterations (if no epochs).
        **kwargs: ``val_begin``, ``val_interval``, ``dynamic_intervals``.
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 max_epochs: Optional[int] = None,
                 max_iters: Optional[int] = None,
                 **kwargs) -> None:
        if (max_epochs is None) == (max_iters is None):
            raise ValueError('give exactly one of max_epochs and max_iters')
        super().__init__(runner, dataloader, max_iters=max_iters or 1,
                         **kwargs)
        self.iters_per_epoch = len(self.dataloader)
        if max_epochs is not None:
            self._max_iters = int(max_epochs) * self.iters_per_epoch
            self._max_epochs = int(max_epochs)
        self._rng_pending = None
        self.dataloader_iterator = _RNGRestoringIterator(
            self.dataloader_iterator, self)

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
