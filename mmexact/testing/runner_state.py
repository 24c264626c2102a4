# Copyright (c) mmexact contributors. All rights reserved.
"""Pretend to be inside a Runner at a given iteration (tests)."""
from contextlib import contextmanager

from mmengine.logging import MessageHub

__all__ = ['training_iteration']


@contextmanager
def training_iteration(it: int):
    """Set the Runner's 0-based iteration that heads read (``it + 1`` is
    the 1-based step), restoring the previous value afterwards."""
    hub = MessageHub.get_current_instance()
    previous = hub.get_info('iter')
    hub.update_info('iter', it)
    try:
        yield
    finally:
        if previous is None:
            hub.pop_info('iter')
        else:
            hub.update_info('iter', previous)
