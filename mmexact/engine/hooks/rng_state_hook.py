# Copyright (c) mmexact contributors. All rights reserved.
import random

import numpy as np
import torch
from mmengine.hooks import Hook

from mmseg.registry import HOOKS

__all__ = ['RNGStateHook', 'get_rng_state', 'set_rng_state']


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Save and restore the random number generators with checkpoints.

    MMEngine re-seeds at start-up but does not store the generators, so a
    resumed run draws different random numbers than an uninterrupted one
    (Exact's Gumbel assignments, dropout, random augmentation). With this
    hook the Python, NumPy and torch (CPU and CUDA) states go into every
    checkpoint and are restored on ``--resume``, which makes a resumed run
    continue exactly (bitwise on CPU with deterministic settings and
    ``num_workers=0``; loader workers derive their seeds from the sampler).

    The state is applied after the loop has skipped the already trained
    batches (skipping draws random numbers too) when the loop supports it
    (:class:`IterBasedEpochTrainLoop`), otherwise right after loading.
    """

    priority = 'VERY_LOW'

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint['rng_state'] = get_rng_state()

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        state = checkpoint.get('rng_state')
        if not state or not runner._resume:
            return
        loop = getattr(runner, '_train_loop', None)
        if hasattr(loop, 'defer_rng_state'):
            loop.defer_rng_state(state, checkpoint['meta']['iter'])
        else:
            set_rng_state(state)


def get_rng_state() -> dict:
    """Python, NumPy and torch (CPU, CUDA if used) generator states."""
    state = dict(
        python=random.getstate(),
        numpy=np.random.get_state(),
        torch=torch.get_rng_state())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    """Restore states from :func:`get_rng_state`."""
    random.setstate(_as_python_state(state['python']))
    np.random.set_state(state['numpy'])
    torch.set_rng_state(state['torch'].cpu())
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in state['cuda']])


def _as_python_state(state):
    """``random.setstate`` needs tuples; checkpoints may hold lists."""
    version, internal, gauss = state
    return version, tuple(internal), gauss
