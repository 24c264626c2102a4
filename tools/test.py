# Copyright (c) mmexact contributors. All rights reserved.
"""Test (evaluate) a checkpoint with MMEngine's Runner.

Same arguments as mmsegmentation 1.x ``tools/test.py``. ``--out DIR``
writes the predicted label maps as PNGs; ``--show-dir DIR`` writes, per
sample, an RGB composite of one date with ground truth and prediction.
"""
import argparse
import json
import numbers
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import mmexact  # noqa: E402,F401  (registers components, checkpoint fix)
from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.dist import is_main_process  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

from mmexact.apis import (cleanup_distributed,  # noqa: E402
                          prepare_cpu_distributed)

from mmseg.registry import RUNNERS  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Test a SITS segmentor')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the dir to save logs')
    parser.add_argument(
        '--out', help='directory to write predicted label maps (PNG)')
    parser.add_argument(
        '--show', action='store_true', help='show results (needs a display)')
    parser.add_argument(
        '--show-dir', help='directory to write visualisations (PNG)')
    parser.add_argument(
        '--wait-time', type=float, default=2, help='interval of --show (s)')
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
    parser.add_argument('--tta', action='store_true', help='test-time aug.')
    parser.add_argument(
        '--metrics-out', help='also write the test metrics to this JSON file')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def enable_visualization(cfg: Config, args) -> None:
    """Route --show/--show-dir to the SITS visualisation hook."""
    hooks = cfg.default_hooks
    if 'visualization' not in hooks:
        raise RuntimeError('--show/--show-dir need default_hooks.'
                           'visualization in the config')
    hook = hooks['visualization']
    if hook.get('type') == 'SegVisualizationHook':
        # mmseg's hook re-reads img_path as an image, which fails for SITS
        # files: use the SITS hook, which renders from the inputs.
        hook.clear()
        hook['type'] = 'SITSVisualizationHook'
    hook['draw'] = True
    if args.show:
        hook['show'] = True
        hook['wait_time'] = args.wait_time
    if args.show_dir:
        hook['out_dir'] = args.show_dir


def main(argv=None):
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    prepare_cpu_distributed(cfg)  # gloo + no device ids without GPUs
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = args.checkpoint
    if args.show or args.show_dir:
        enable_visualization(cfg, args)
    if args.tta:
        cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
        cfg.tta_model.module = cfg.model
        cfg.model = cfg.tta_model
    if args.out is not None:
        if not isinstance(cfg.test_evaluator, dict):
            raise ValueError('--out needs test_evaluator to be a dict')
        cfg.test_evaluator['output_dir'] = args.out
        cfg.test_evaluator['keep_results'] = True
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg \
        else RUNNERS.build(cfg)
    metrics = runner.test()
    if args.metrics_out and is_main_process():
        with open(args.metrics_out, 'w') as f:
            json.dump({k: float(v) for k, v in metrics.items()
                       if isinstance(v, numbers.Number)}, f, indent=2)
    cleanup_distributed(exit_process=__name__ == '__main__')
    return metrics


if __name__ == '__main__':
    main()
