# Copyright (c) mmexact contributors. All rights reserved.
"""Test (evaluate) a checkpoint with MMEngine's Runner.

Same arguments as mmsegmentation 1.x ``tools/test.py``. ``--out DIR``
writes the predicted label maps as PNGs. ``--show-dir DIR`` draws every
test sample (RGB of one date, ground truth and prediction) through the
config's visualizer, so each of its ``vis_backends`` receives the images
under ``DIR`` (the Local backend writes ``DIR/vis_data/vis_image/*.png``);
``--show`` displays them (needs an interactive matplotlib backend).
``--tta`` averages the predictions of flipped views (the config's
``tta_pipeline``, by default the test pipeline with ``TestTimeAug`` over
identity / horizontal / vertical ``SITSFlip``).
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
from mmexact.visualization import require_display  # noqa: E402

from mmseg.registry import RUNNERS  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Test a SITS segmentor')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the dir to save logs')
    parser.add_argument(
        '--out', help='directory to write predicted label maps (PNG)')
    parser.add_argument(
        '--show',
        action='store_true',
        help='display the drawn samples (interactive matplotlib backend)')
    parser.add_argument(
        '--show-dir',
        help='draw the test samples into the visualizer backends under this '
        'directory (Local: DIR/vis_data/vis_image/*.png)')
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
    parser.add_argument(
        '--tta',
        action='store_true',
        help='test-time augmentation: average the predictions of flipped '
        'views (tta_pipeline, or the test pipeline with SITSFlip views)')
    parser.add_argument(
        '--metrics-out', help='also write the test metrics to this JSON file')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def enable_visualization(cfg: Config, args) -> None:
    """Route --show/--show-dir through the SITS hook and visualizer."""
    hooks = cfg.default_hooks
    if 'visualization' not in hooks:
        raise RuntimeError('--show/--show-dir need default_hooks.'
                           'visualization in the config')
    if args.show:
        require_display('--show')
    hook = hooks['visualization']
    if hook.get('type') == 'SegVisualizationHook':
        # mmseg's hook re-reads img_path as an image, which fails for SITS
        # files: use the SITS hook, which draws from the inputs.
        hook.clear()
        hook['type'] = 'SITSVisualizationHook'
    hook['draw'] = True
    if args.show:
        hook['show'] = True
        hook['wait_time'] = args.wait_time
    vis = cfg.get('visualizer') or dict(
        vis_backends=[dict(type='LocalVisBackend')], name='visualizer')
    if vis.get('type', 'SegLocalVisualizer') == 'SegLocalVisualizer':
        # same arguments; draws SITS samples
        vis['type'] = 'SITSLocalVisualizer'
    if args.show_dir:
        vis['save_dir'] = args.show_dir
    cfg.visualizer = vis


def sits_tta_pipeline(test_pipeline: list) -> list:
    """The test pipeline with a flip ``TestTimeAug`` before packing.

    Three views: identity, horizontal and vertical :class:`SITSFlip`; the
    segmentor flips each prediction back and ``SegTTAModel`` averages
    their class probabilities.
    """
    pipeline = [dict(t) for t in test_pipeline]
    if not pipeline or pipeline[-1].get('type') != 'PackSITSInputs':
        raise ValueError('--tta without a tta_pipeline in the config needs '
                         'a test pipeline that ends with PackSITSInputs')
    pack = pipeline.pop()
    flips = [dict(type='SITSFlip', direction=d)
             for d in (None, 'horizontal', 'vertical')]
    return pipeline + [
        dict(type='TestTimeAug', transforms=[flips, [pack]])
    ]


def enable_tta(cfg: Config) -> None:
    """Wrap the model in the TTA model and switch to the TTA pipeline."""
    dataset = cfg.test_dataloader.dataset
    tta_pipeline = cfg.get('tta_pipeline') or sits_tta_pipeline(
        dataset.pipeline)
    dataset.pipeline = tta_pipeline
    tta_model = cfg.get('tta_model') or dict(type='SegTTAModel')
    tta_model['module'] = cfg.model
    cfg.model = tta_model


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
        enable_tta(cfg)
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
