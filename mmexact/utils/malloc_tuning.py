# Copyright (c) mmexact contributors. All rights reserved.
"""Let glibc keep and reuse freed memory instead of returning it.

PyTorch's CPU tensors come from ``malloc``. By default glibc serves blocks
above a (dynamic, <= 32 MiB) threshold with a fresh ``mmap`` and gives them
back on ``free``, so every large activation of every training step is
page-faulted and zeroed by the kernel again. For Exact's stage 1 on a
2-core CPU that costs about a quarter of the step
(``tools/analysis_tools/benchmark.py``
vs ``--glibc-defaults``: training 0.76 -> 1.0 samples/s, CB-CAM generation
2.1 -> 3.0 samples/s). With
``mmap`` disabled and heap trimming off, freed blocks stay in the heap and
are reused by the next step. The price: the process keeps its peak heap
(its resident memory does not shrink after a spike), which is the usual
behaviour of a training job anyway.
"""
import ctypes
import platform
import sys

__all__ = ['keep_freed_memory']

_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4
_applied = False


def keep_freed_memory() -> bool:
    """Configure glibc malloc: no ``mmap`` for large blocks, no trimming.

    Process-wide and idempotent; forked loader workers inherit it. A no-op
    on other C libraries and platforms.

    Returns:
        bool: Whether the setting is in effect (glibc on Linux).
    """
    global _applied
    if _applied:
        return True
    if not sys.platform.startswith('linux') or \
            platform.libc_ver()[0] != 'glibc':
        return False
    try:
        libc = ctypes.CDLL('libc.so.6')
    except OSError:
        return False
    # mallopt returns 1 on success; -1 as size_t = never trim
    _applied = bool(libc.mallopt(_M_MMAP_MAX, 0)) and bool(
        libc.mallopt(_M_TRIM_THRESHOLD, -1))
    return _applied
