# Copyright (c) mmexact contributors. All rights reserved.
"""Distributed runs on CPU-only machines (gloo) with MMEngine's launcher."""
import atexit
import logging
import os
import sys
import torch
import torch.distributed as dist
from mmengine.config import Config

__all__ = ['prepare_cpu_distributed', 'cleanup_distributed']


def prepare_cpu_distributed(cfg: Config) -> bool:
    """Make ``--launcher pytorch`` work without GPUs.

    MMEngine's ``init_dist`` always calls ``torch.cuda.set_device`` and
    wraps the model with ``device_ids=[LOCAL_RANK]``, which fails on a
    CPU-only machine. When no GPU is available this initialises the gloo
    process group itself (from the ``torchrun`` environment), sets the
    config's backend to gloo and the DDP wrapper's ``device_ids`` to None.
    Nothing changes when GPUs are present or without a launcher.

    Args:
        cfg (Config): Config with ``launcher`` already set.

    Returns:
        bool: True if the CPU set-up was applied.
    """
    if cfg.get('launcher', 'none') != 'pytorch' or torch.cuda.is_available():
        return False
    cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})
    cfg.env_cfg.dist_cfg['backend'] = 'gloo'
    if not dist.is_initialized():
        dist.init_process_group(
            backend='gloo',
            rank=int(os.environ['RANK']),
            world_size=int(os.environ['WORLD_SIZE']))
    wrapper = dict(cfg.get('model_wrapper_cfg') or {})
    wrapper.setdefault('type', 'MMDistributedDataParallel')
    wrapper.setdefault('broadcast_buffers', False)
    wrapper.setdefault('find_unused_parameters',
                       cfg.get('find_unused_parameters', False))
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper
    return True


def cleanup_distributed(exit_process: bool = False) -> bool:
    """Synchronise and tear down the process group at the end of a run.

    Without it, gloo's worker threads can be killed mid-flight at
    interpreter exit ("terminate called without an active exception"),
    failing an otherwise finished job. Even after the teardown, about one
    CPU run in ten still aborted that way while the interpreter destroyed
    C++ statics (torch 2.13, gloo). With ``exit_process`` a finished
    **gloo** process therefore runs the ``atexit`` handlers (experiment
    loggers and the like) itself, flushes its logs and output and leaves
    with ``os._exit(0)``, skipping those destructors (the tools do this).
    Other backends (NCCL) return normally and the interpreter exits as
    usual.

    Args:
        exit_process (bool): After a gloo teardown, end the process
            (status 0).

    Returns:
        bool: Whether a process group was torn down.
    """
    if not (dist.is_available() and dist.is_initialized()):
        return False
    gloo = dist.get_backend() == 'gloo'
    dist.barrier()
    dist.destroy_process_group()
    if exit_process and gloo:
        atexit._run_exitfuncs()
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
    return True
