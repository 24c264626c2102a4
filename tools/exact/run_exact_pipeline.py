# Copyright (c) mmexact contributors. All rights reserved.
"""Run the whole Exact pipeline into one work dir, resumable stage by stage.

    python tools/exact/run_exact_pipeline.py \
        configs/exact/exact_tsvit_pastis.py --work-dir work_dirs/exact_pipeline
    # every stage on 8 processes (torchrun; gloo on CPU without GPUs):
    tools/exact/dist_run_exact_pipeline.sh configs/exact/exact_tsvit_pastis.py 8 \
        --work-dir work_dirs/exact_pipeline

Stages (each skipped when its outputs exist, so an interrupted run simply
continues; an interrupted training resumes from its last checkpoint):

1. ``stage1``: train the classifier from image-level labels;
2. ``cam``: CB-CAM quality of the last stage-1 checkpoint (tools/test.py);
3. ``pseudo``: threshold sweep over the stage-1 checkpoints and pseudo-label
   PNGs (tools/exact/generate_pseudo_labels.py; ``--theta-rule`` says how
   theta is chosen: pixel truth, image labels only, or fixed);
4. ``stage2``: train the segmentation network on the pseudo labels;
5. ``test``: evaluate the stage-2 checkpoint selected on the validation fold
   on the test split;

then a summary table (also ``summary.json`` / ``summary.md``). With
``--launcher pytorch --nproc-per-node N`` this driver stays one process
and starts every stage with ``torchrun`` on N processes.
"""
import argparse
import json
import os
import os.path as osp
import sys
from typing import Dict, List, Optional

HERE = osp.dirname(osp.abspath(__file__))
TOOLS = osp.dirname(HERE)
sys.path.insert(0, osp.dirname(TOOLS))

from mmexact.utils import (best_checkpoint, checkpoint_iter,  # noqa: E402
                           iter_checkpoints, pseudo_label_options,
                           run_python)
from mmexact.utils.config_options import (THETA_RULES,  # noqa: E402
                                          theta_rule_args)

STAGES = ('stage1', 'cam', 'pseudo', 'stage2', 'test')


#: processes per stage (1: plain python; >1: torchrun + --launcher pytorch)
NPROC = 1


def _run(cmd: List[str]) -> None:
    tool = osp.basename(cmd[0])
    nproc = NPROC if tool in ('train.py', 'test.py',
                              'generate_pseudo_labels.py') else 1
    run_python(cmd, nproc=nproc)


def _final_done(work: str, marker: str) -> bool:
    return osp.isfile(osp.join(work, marker))


def _train(config: str, work: str, options: List[str]) -> None:
    if _final_done(work, 'DONE'):
        return
    cmd = [osp.join(TOOLS, 'train.py'), config, '--work-dir', work]
    if osp.isfile(osp.join(work, 'last_checkpoint')):
        cmd.append('--resume')
    _run(cmd + (['--cfg-options'] + options if options else []))
    with open(osp.join(work, 'DONE'), 'w') as f:
        f.write('done\n')


def _test(config: str, ckpt: str, work: str, out: str,
          options: List[str], show_dir: Optional[str] = None) -> Dict:
    if not osp.isfile(out):
        _run([osp.join(TOOLS, 'test.py'), config, ckpt, '--work-dir', work,
              '--metrics-out', out] +
             (['--show-dir', show_dir] if show_dir else []) +
             (['--cfg-options'] + options if options else []))
    with open(out) as f:
        return json.load(f)


def _train_step(path: str) -> int:
    """Training step of a checkpoint's last iteration, in base-batch
    iterations (``meta['train_step']``, written by SITSTrainStepHook); the
    iteration of its file name for older checkpoints."""
    from mmexact.utils import load_local_checkpoint
    meta = load_local_checkpoint(path, map_location='cpu').get('meta') or {}
    return int(meta.get('train_step', checkpoint_iter(path)))


def _sweep_checkpoints(cfg, work: str, explicit: Optional[List[str]],
                       allow_pre_warmup: bool = False):
    """The checkpoints written after the prototype warm-up (all processes
    counted: the step is in iterations of the schedule's base batch)."""
    if explicit:
        return explicit
    ckpts = iter_checkpoints(work)
    start = cfg.model.get('decode_head', {}).get('proto_start_iter', 0)
    steps = [_train_step(c) for c in ckpts]
    chosen = [c for c, step in zip(ckpts, steps) if step >= start]
    if not chosen and allow_pre_warmup:
        print(f'WARNING: no stage-1 checkpoint is past the prototype warm-up '
              f'(step {start}; checkpoints at steps {steps}); sweeping the '
              f'last one, {osp.basename(ckpts[-1])}, as --allow-pre-warmup '
              'asks', flush=True)
        return ckpts[-1:]
    if not chosen:
        raise SystemExit(
            f'no stage-1 checkpoint in {work} is past the prototype warm-up '
            f'(step {start}; checkpoints at steps {steps}): their CB-CAMs '
            'come from untrained prototypes. Train longer or save more '
            'often, name checkpoints with --sweep-checkpoints, or pass '
            '--allow-pre-warmup')
    return chosen


def main(argv=None) -> Dict:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='stage-1 config')
    parser.add_argument('--work-dir', required=True)
    parser.add_argument('--stage2-config',
                        help='default: the stage-1 config\'s stage2_config')
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        help='key=value overrides for both stages')
    parser.add_argument('--stage1-cfg-options', nargs='+', default=[],
                        help='key=value overrides for stage 1 only (its '
                        'training, CAM test and threshold sweep)')
    parser.add_argument('--stage2-cfg-options', nargs='+', default=[])
    parser.add_argument('--sweep-checkpoints', nargs='+',
                        help='stage-1 checkpoints for the sweep (default: '
                        'all from the prototype warm-up on)')
    parser.add_argument(
        '--allow-pre-warmup', action='store_true',
        help='sweep the last stage-1 checkpoint even if it lies before the '
        'prototype warm-up (logged; default: refuse)')
    parser.add_argument('--select', choices=['oa', 'miou'], default='oa',
                        help='criterion of --theta-rule pixel')
    parser.add_argument(
        '--theta-rule', choices=THETA_RULES, default='pixel',
        help='how the pseudo-label stage chooses theta and the stage-1 '
        'checkpoint (generate_pseudo_labels.py --theta-rule): pixel '
        '(default, pixel truth), image-labels (no pixel truth: presence F1 '
        'of ungated CAMs against the image labels), fixed (--bg-threshold, '
        'the last swept checkpoint)')
    parser.add_argument('--bg-threshold', type=float,
                        help='theta of --theta-rule fixed')
    parser.add_argument('--min-fraction', type=float,
                        help='presence fraction of --theta-rule '
                        'image-labels (default 0.01)')
    parser.add_argument('--stop-after', choices=STAGES)
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch'], default='none',
        help='pytorch: run the training, test and pseudo-label stages with '
        'torchrun on --nproc-per-node processes')
    parser.add_argument('--nproc-per-node', type=int, default=1)
    args = parser.parse_args(argv)
    try:
        rule_args = theta_rule_args(args.theta_rule, args.bg_threshold,
                                    args.min_fraction)
    except ValueError as exc:
        parser.error(str(exc))
    global NPROC
    NPROC = args.nproc_per_node if args.launcher == 'pytorch' else 1

    from mmengine.config import Config, DictAction
    cfg = Config.fromfile(args.config)
    opts1 = args.cfg_options + args.stage1_cfg_options
    if opts1:
        parsed = argparse.Namespace()
        DictAction([], 'opts')(parser, parsed, opts1)
        cfg.merge_from_dict(parsed.opts)
    stage2 = args.stage2_config or osp.join(
        osp.dirname(args.config), cfg.get('stage2_config', ''))
    if not osp.isfile(stage2):
        parser.error(f'stage-2 config not found: {stage2!r}; pass '
                     '--stage2-config')
    work = osp.abspath(args.work_dir)
    dirs = {s: osp.join(work, s) for s in ('stage1', 'stage2')}
    pseudo = osp.join(work, 'pseudo_labels')
    os.makedirs(work, exist_ok=True)
    summary: Dict = {}

    def stop(stage: str) -> bool:
        return args.stop_after == stage

    _train(args.config, dirs['stage1'], opts1)
    last1 = iter_checkpoints(dirs['stage1'])[-1]
    summary['stage1_checkpoint'] = osp.relpath(last1, work)
    if not stop('stage1'):
        cam = _test(args.config, last1, dirs['stage1'],
                    osp.join(work, 'cam_metrics.json'), opts1)
        summary['cam_mIoU'] = cam.get('mIoU')
        summary['cam_aAcc'] = cam.get('aAcc')
    if not (stop('stage1') or stop('cam')):
        sweep_json = osp.join(pseudo, 'sweep.json')
        if not osp.isfile(sweep_json):
            ckpts = _sweep_checkpoints(cfg, dirs['stage1'],
                                       args.sweep_checkpoints,
                                       args.allow_pre_warmup)
            if args.theta_rule == 'fixed':
                ckpts = ckpts[-1:]  # nothing chooses among them
            _run([osp.join(HERE, 'generate_pseudo_labels.py'), args.config]
                 + ckpts + ['--out-dir', pseudo, '--select', args.select] +
                 rule_args +
                 (['--cfg-options'] + opts1 if opts1 else []))
        with open(sweep_json) as f:
            sweep = json.load(f)
        summary['pseudo_label'] = sweep['selection']
    if args.stop_after in (None, 'stage2', 'test'):
        cfg2 = Config.fromfile(stage2)
        opts = args.cfg_options + args.stage2_cfg_options
        if opts:
            parsed = argparse.Namespace()
            DictAction([], 'opts')(parser, parsed, opts)
            cfg2.merge_from_dict(parsed.opts)
        # the stage-2 training pipeline reads them (LoadPseudoLabel)
        opts = opts + pseudo_label_options(cfg2, pseudo)
        _train(stage2, dirs['stage2'], opts)
        best = best_checkpoint(dirs['stage2'])
        summary['stage2_checkpoint'] = osp.relpath(best, work)
    if args.stop_after in (None, 'test'):
        res = _test(stage2, best, dirs['stage2'],
                    osp.join(work, 'stage2_test_metrics.json'), opts,
                    show_dir=osp.join(dirs['stage2'], 'vis'))
        summary['stage2_test_mIoU'] = res.get('mIoU')
        summary['stage2_test_aAcc'] = res.get('aAcc')
    _write_summary(work, summary)
    return summary


def _fmt(v) -> str:
    return f'{v:.2f}' if isinstance(v, (int, float)) else str(v)


def _write_summary(work: str, summary: Dict) -> None:
    pl = summary.get('pseudo_label') or {}
    pct = {k: 100 * pl[k] for k in ('mIoU', 'mIoU_nan', 'OA')
           if pl.get(k) is not None}
    rows = [
        ('CB-CAM mIoU (stage-1 split)', summary.get('cam_mIoU')),
        ('pseudo-label mIoU (all classes, reference)', pct.get('mIoU')),
        ('pseudo-label mIoU (classes present)', pct.get('mIoU_nan')),
        ('pseudo-label OA', pct.get('OA')),
        ('pseudo-label theta rule', pl.get('rule', 'pixel')),
        ('pseudo-label theta', pl.get('threshold')),
        ('stage-2 mIoU (test split)', summary.get('stage2_test_mIoU')),
    ]
    lines = ['| quantity | value |', '|---|---|'] + [
        f'| {k} | {_fmt(v)} |' for k, v in rows
    ]
    text = '\n'.join(lines)
    print('\nExact pipeline summary\n' + text, flush=True)
    with open(osp.join(work, 'summary.md'), 'w') as f:
        f.write(text + '\n')
    with open(osp.join(work, 'summary.json'), 'w') as f:
        json.dump(summary, f, indent=2)


if __name__ == '__main__':
    main()
