# Copyright (c) mmexact contributors. All rights reserved.
from typing import Optional

import torch
from mmengine.dist import all_gather, get_world_size
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper

from mmseg.registry import HOOKS

__all__ = ['RankConsistencyHook']


@HOOKS.register_module()
class RankConsistencyHook(Hook):
    """Check that every rank holds the same parameters and buffers.

    DDP keeps parameters in sync, but state updated outside the optimiser
    (e.g. Exact's ``ema`` prototypes) silently diverges if an update is not
    all-reduced. Every ``interval`` iterations this hook gathers one float64
    checksum per tensor from all ranks and raises (or warns) on mismatch,
    naming the tensors. No-op in single-process runs.

    Args:
        interval (int): Check every ``interval`` training iterations.
        raise_on_mismatch (bool): Raise instead of logging a warning.
    """

    priority = 'LOW'

    def __init__(self, interval: int = 1000,
                 raise_on_mismatch: bool = True) -> None:
        self.interval = interval
        self.raise_on_mismatch = raise_on_mismatch

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        if get_world_size() < 2 or not self.every_n_train_iters(
                runner, self.interval):
            return
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        names, sums = [], []
        for name, t in list(model.named_parameters()) + list(
                model.named_buffers()):
            names.append(name)
            sums.append(t.detach().double().sum() +
                        t.detach().double().abs().sum() * 1e-3)
        local = torch.stack(sums).cpu()
        gathered = all_gather(local)
        bad = [
            names[i] for i in range(len(names))
            if any(g[i] != gathered[0][i] for g in gathered[1:])
        ]
        if not bad:
            print_log(
                f'rank consistency ok at iteration {runner.iter + 1}',
                logger='current')
            return
        msg = (f'ranks diverged at iteration {runner.iter + 1} in '
               f'{len(bad)} tensor(s), e.g. {bad[:5]}')
        if self.raise_on_mismatch:
            raise RuntimeError(msg)
        print_log(msg, logger='current', level=30)
