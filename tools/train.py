# Copyright (c) mmexact contributors. All rights reserved.
"""Train a segmentor (or Exact's classifier) with MMEngine's Runner.

Same arguments as mmsegmentation 1.x ``tools/train.py``; ``--resume``
optionally takes a checkpoint path.
"""
import argparse
import logging
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import mmexact  # noqa: E402,F401  (registers components, checkpoint fix)
import torch  # noqa: E402
from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.logging import print_log  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

from mmexact.apis import (cleanup_distributed,  # noqa: E402
                          prepare_cpu_distributed)
from mmexact.utils import ensure_data_contract_hook  # noqa: E402

from mmseg.registry import RUNNERS  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a SITS segmentor')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume',
        nargs='?',
        const='auto',
        default=None,
        help='resume from the latest checkpoint in the work dir, or from '
        'the given checkpoint path')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='automatic mixed precision: on GPUs AmpOptimWrapper (dynamic '
        'loss scaling), on CPUs bfloat16 autocast (AutocastOptimWrapper)')
    parser.add_argument(
        '--amp-dtype',
        choices=['float16', 'bfloat16'],
        default=None,
        help='autocast dtype of --amp (default: float16 on GPUs, bfloat16 '
        'on CPUs)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, key=value')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def enable_amp(cfg: Config, dtype=None) -> None:
    """Switch the config's ``OptimWrapper`` to mixed precision.

    GPUs: mmengine's ``AmpOptimWrapper`` (float16 with dynamic loss scaling
    unless ``dtype='bfloat16'``). CPUs: :class:`AutocastOptimWrapper`
    (bfloat16, no scaling; float16 on request).
    """
    wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
    if wrapper in ('AmpOptimWrapper', 'AutocastOptimWrapper'):
        print_log('AMP is already enabled in the config',
                  logger='current', level=logging.WARNING)
        return
    if wrapper != 'OptimWrapper':
        raise ValueError(
            f'--amp needs optim_wrapper.type OptimWrapper, got {wrapper}')
    if torch.cuda.is_available():
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.loss_scale = 'dynamic'
        if dtype is not None:
            cfg.optim_wrapper.dtype = dtype
    else:
        cfg.optim_wrapper.type = 'AutocastOptimWrapper'
        cfg.optim_wrapper.dtype = dtype or 'bfloat16'


def main(argv=None):
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    prepare_cpu_distributed(cfg)  # gloo + no device ids without GPUs
    # checkpoints carry their data contract even when the config's own
    # custom_hooks replaced the list of default_runtime.py
    ensure_data_contract_hook(cfg)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    if args.amp:
        enable_amp(cfg, args.amp_dtype)
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        cfg.resume, cfg.load_from = True, args.resume
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg \
        else RUNNERS.build(cfg)
    runner.train()
    cleanup_distributed(exit_process=__name__ == '__main__')


if __name__ == '__main__':
    main()
