# Copyright (c) mmexact contributors. All rights reserved.
"""Select a stage-1 checkpoint and threshold, then write pseudo labels.

Exact's stage 3 (exact-method.md §7.2-7.3) through mmengine's Runner, a
thin front end over ``tools/test.py``'s machinery: for every checkpoint the
test loop runs the CAM segmentor over the split with
:class:`ThresholdSweepMetric` (all background thresholds in one pass); the
(checkpoint, threshold) pair with the best OA (the reference; ``--select
miou`` for the plain-mean mIoU) is then run once more with the head's
``bg_threshold`` set to it and :class:`SITSIoUMetric` in ``format_only``
mode, which writes ``<out-dir>/<sample_id>.png`` for every window. The
table of the sweep goes to ``sweep.csv`` and ``sweep.json``.

``--theta-rule`` says how theta and the checkpoint are chosen:

- ``pixel`` (default, Exact's protocol): the pixel truth of the split, as
  above. Windows whose truth is all 255 (ignored) count for nothing, so a
  few labelled parcels in otherwise ignored windows are a selection set;
  without any truth the tool stops and says so;
- ``image-labels`` (no pixel truth needed): the sweep runs on *ungated*
  CAMs (the head's ``cam_gating='none'``) with
  :class:`ImageLabelSweepMetric`: the classes present in each window's
  thresholded map (more than ``--min-fraction`` of its pixels, Exact's
  image-label rule) against its image labels, micro F1 over all (window,
  class) pairs; the best F1 picks the pair (ties: the earlier checkpoint,
  then the lower theta). The pseudo labels are written with the config's
  own gating (``'gt'``: the image labels);
- ``fixed``: ``--bg-threshold THETA`` and one checkpoint, no sweep.

The rule and theta are in ``sweep.json`` (``selection``: ``rule``,
``checkpoint``, ``threshold``, and the rule's scores) and ``sweep.csv``
(columns ``theta_rule`` and ``selected``). With
``--launcher pytorch`` (``tools/exact/dist_generate_pseudo_labels.sh``) the
Runner shards the windows (mmengine's ``DefaultSampler``) and collects the
metric's integer histograms: the result equals one process.

The same, by hand, with ``tools/test.py``::

    python tools/test.py CONFIG CKPT --cfg-options \
        test_evaluator.type=ThresholdSweepMetric        # the sweep
    python tools/test.py CONFIG CKPT --out DIR --cfg-options \
        model.decode_head.bg_threshold=THETA             # the PNGs

Example::

    python tools/exact/generate_pseudo_labels.py \
        configs/exact/exact_tsvit_pastis.py work_dirs/exact/iter_*000.pth \
        --out-dir data/PASTIS24/pseudo_labels
    # image-level labels only:
    python tools/exact/generate_pseudo_labels.py CONFIG CKPTS... \
        --out-dir DIR --theta-rule image-labels
    tools/exact/dist_generate_pseudo_labels.sh configs/exact/exact_tsvit_pastis.py \
        8 work_dirs/exact/iter_*000.pth --out-dir data/PASTIS24/pseudo_labels
"""
import argparse
import csv
import glob
import json
import os
import os.path as osp
import sys
import time
from typing import Dict, List, Optional, Sequence

sys.path.insert(
    0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import mmexact  # noqa: E402,F401  (registers components, checkpoint fix)
from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.dist import broadcast_object_list, get_dist_info  # noqa
from mmengine.model import is_model_wrapper  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

from mmexact.apis import cleanup_distributed, prepare_cpu_distributed  # noqa
from mmexact.evaluation import ThresholdSweep  # noqa: E402
from mmexact.utils.config_options import THETA_RULES  # noqa: E402

CRITERIA = dict(oa='oa', miou='miou')
NO_PIXEL_TRUTH = (
    'no window of the {split} split has a ground-truth pixel (all 255 = '
    'ignored), so --theta-rule pixel cannot choose theta: label a few '
    'parcels (the rest may stay 255), or choose theta from the image '
    'labels with --theta-rule image-labels (or --theta-rule fixed '
    '--bg-threshold THETA)')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Sweep CAM thresholds over stage-1 checkpoints and '
        'write pseudo labels')
    parser.add_argument('config', help='stage-1 config file')
    parser.add_argument('checkpoints', nargs='+', help='checkpoint file(s)')
    parser.add_argument(
        '--out-dir', required=True, help='where PNGs and the sweep go')
    parser.add_argument(
        '--work-dir',
        help='the Runner\'s log folder (default: OUT_DIR/logs)')
    parser.add_argument(
        '--split',
        choices=['train', 'val', 'test'],
        default='test',
        help='dataset of the config to use (stage-1 configs: test = '
        'training folds 1-3, the reference protocol)')
    parser.add_argument(
        '--thresholds',
        nargs=3,
        type=float,
        default=[0., 0.6, 0.01],
        metavar=('START', 'STOP', 'STEP'),
        help='background thresholds start, start + step, ... < stop '
        '(default: 0 0.6 0.01)')
    parser.add_argument(
        '--select',
        choices=['oa', 'miou'],
        default='oa',
        help='selection criterion of --theta-rule pixel (reference: oa)')
    parser.add_argument(
        '--theta-rule',
        choices=THETA_RULES,
        default='pixel',
        help='how theta and the checkpoint are chosen. pixel (default, '
        'Exact\'s protocol): best --select against the pixel truth of the '
        'split (windows all 255 count for nothing; none with truth is an '
        'error). image-labels: no pixel truth; best micro F1 between the '
        'classes present in the thresholded ungated CAMs (cam_gating=none; '
        'present = more than --min-fraction of the window) and the image '
        'labels gt_cls_label; ties to the earlier checkpoint, then the '
        'lower theta; the PNGs keep the config\'s gating. fixed: '
        '--bg-threshold with exactly one checkpoint, no sweep. The rule '
        'and theta go to sweep.json (selection) and sweep.csv')
    parser.add_argument(
        '--bg-threshold',
        type=float,
        help='theta of --theta-rule fixed (required there, refused '
        'otherwise)')
    parser.add_argument(
        '--min-fraction',
        type=float,
        help='presence fraction of --theta-rule image-labels: a class is '
        'present in a window when it labels strictly more than this '
        'fraction of its pixels (default: 0.01, Exact\'s image-label rule)')
    parser.add_argument(
        '--sweep-only',
        action='store_true',
        help='select and write sweep.csv / sweep.json, but no PNGs')
    parser.add_argument('--batch-size', type=int, default=16)
    parser.add_argument(
        '--num-workers',
        type=int,
        default=None,
        help='loader workers (default: the config\'s)')
    parser.add_argument(
        '--amp',
        choices=['bf16', 'fp16'],
        help='run the network under autocast (AutocastTestLoop; the clue '
        'maths and CAMs stay float32); bf16 on CPUs with AVX-512 BF16 / AMX '
        'and recent GPUs')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch'],
        default='none',
        help='job launcher (pytorch: torchrun, one process per GPU, or gloo '
        'on CPU)')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, key=value')
    args = parser.parse_args(argv)
    if (args.bg_threshold is not None) != (args.theta_rule == 'fixed'):
        parser.error('--bg-threshold is needed by, and only allowed with, '
                     '--theta-rule fixed')
    if args.theta_rule == 'fixed' and len(args.checkpoints) != 1:
        parser.error(f'--theta-rule fixed takes one checkpoint, got '
                     f'{len(args.checkpoints)}')
    if args.min_fraction is not None and args.theta_rule != 'image-labels':
        parser.error('--min-fraction belongs to --theta-rule image-labels')
    if args.min_fraction is None:
        args.min_fraction = 0.01
    if not 0 <= args.min_fraction < 1:
        parser.error('--min-fraction must lie in [0, 1)')
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def sweep_config(cfg: Config, args, thresholds: Sequence[float]) -> Config:
    """The test set-up of the sweep: the split's dataset in order, the
    sweep metric and (with ``--amp``) the autocast test loop."""
    loader = cfg.get(f'{args.split}_dataloader')
    if loader is None:
        raise SystemExit(f'the config has no {args.split}_dataloader')
    pipeline = loader.dataset.get('pipeline') or []
    if any(t.get('type') == 'LoadPseudoLabel' for t in pipeline):
        raise SystemExit(
            f'the {args.split} pipeline reads pseudo labels '
            '(LoadPseudoLabel); CAMs must be evaluated against the ground '
            'truth')
    cfg.test_dataloader = dict(
        batch_size=args.batch_size,
        num_workers=loader.get('num_workers', 0)
        if args.num_workers is None else args.num_workers,
        persistent_workers=False,
        sampler=dict(type='DefaultSampler', shuffle=False),
        dataset=loader.dataset)
    if args.theta_rule == 'image-labels':
        cfg.test_evaluator = dict(
            type='ImageLabelSweepMetric', thresholds=list(thresholds),
            min_fraction=args.min_fraction)
    else:  # 'fixed' never runs it
        cfg.test_evaluator = dict(
            type='ThresholdSweepMetric', thresholds=list(thresholds),
            criterion=args.select)
    cfg.test_cfg = dict(type='AutocastTestLoop', dtype=args.amp) \
        if args.amp else dict(type='TestLoop')
    cfg.load_from = None
    cfg.resume = False
    return cfg


def load_sweep(path: str, checkpoint: str) -> dict:
    """A ``threshold_sweep.json`` of :class:`ThresholdSweepMetric` as
    tensors."""
    import torch
    with open(path) as f:
        sweep = json.load(f)
    res = {k: torch.tensor(sweep[k], dtype=torch.float64)
           for k in ('thresholds', 'miou', 'oa', 'miou_nan', 'iou')}
    res.update(num_pixels=int(sweep['num_pixels']), checkpoint=checkpoint,
               num_windows=int(sweep.get('num_windows', 0)),
               num_labelled_windows=int(sweep.get('num_labelled_windows',
                                                  0)))
    return res


def load_label_sweep(path: str, checkpoint: str) -> dict:
    """An ``image_label_sweep.json`` of :class:`ImageLabelSweepMetric`;
    the per-threshold lists as tensors."""
    import torch
    with open(path) as f:
        sweep = json.load(f)
    res = {k: torch.tensor(sweep[k], dtype=torch.float64)
           for k in ('thresholds', 'f1', 'precision', 'recall')}
    res.update({k: torch.tensor(sweep[k], dtype=torch.int64)
                for k in ('tp', 'fp', 'fn')})
    res.update(checkpoint=checkpoint, min_fraction=sweep['min_fraction'],
               num_windows=int(sweep['num_windows']),
               num_labelled_pairs=int(sweep['num_labelled_pairs']))
    return res


def select_best_labels(results: Sequence[dict]) -> Optional[dict]:
    """The (checkpoint, threshold) pair with the best presence F1.

    Ties go to the earlier checkpoint, then to the lower threshold; NaN
    (F1 undefined) never wins.

    Returns:
        dict | None: ``rule`` (``'image-labels'``), ``criterion`` (``'f1'``),
        ``checkpoint``, ``checkpoint_index``, ``threshold``,
        ``threshold_index``, ``F1``, ``precision``, ``recall`` (fractions),
        ``min_fraction``; None if F1 is undefined everywhere.
    """
    best = None
    for i, res in enumerate(results):
        for j, value in enumerate(res['f1'].tolist()):
            if value == value and (best is None or value > best[0]):
                best = (value, i, j)
    if best is None:
        return None
    _, i, j = best
    res = results[i]
    return dict(
        rule='image-labels',
        criterion='f1',
        checkpoint=res.get('checkpoint'),
        checkpoint_index=i,
        threshold=float(res['thresholds'][j]),
        threshold_index=j,
        F1=float(res['f1'][j]),
        precision=float(res['precision'][j]),
        recall=float(res['recall'][j]),
        min_fraction=res['min_fraction'])


def select_best(results: Sequence[dict], criterion: str = 'oa') -> dict:
    """The (checkpoint, threshold) pair with the best ``criterion``.

    Ties go to the earlier checkpoint, then to the lower threshold.

    Returns:
        dict: ``rule`` (``'pixel'``), ``criterion``, ``checkpoint``,
        ``checkpoint_index``, ``threshold``, ``threshold_index``, ``mIoU``,
        ``OA``, ``mIoU_nan`` (fractions).
    """
    if criterion not in CRITERIA:
        raise ValueError(f'criterion must be one of {sorted(CRITERIA)}')
    best = None
    for i, res in enumerate(results):
        values = res[CRITERIA[criterion]]
        j = int(values.argmax())
        if best is None or values[j] > best[0]:
            best = (values[j], i, j)
    if best is None:
        raise ValueError('no sweep results')
    _, i, j = best
    res = results[i]
    return dict(
        rule='pixel',
        criterion=criterion,
        checkpoint=res.get('checkpoint'),
        checkpoint_index=i,
        threshold=float(res['thresholds'][j]),
        threshold_index=j,
        mIoU=float(res['miou'][j]),
        OA=float(res['oa'][j]),
        mIoU_nan=float(res['miou_nan'][j]))


def _rows(results: Sequence[dict], rule: str = 'pixel') -> List[dict]:
    if rule == 'image-labels':
        return [
            dict(
                checkpoint=res.get('checkpoint'),
                threshold=round(thr, 10),
                F1=float(res['f1'][j]),
                precision=float(res['precision'][j]),
                recall=float(res['recall'][j]),
                TP=int(res['tp'][j]),
                FP=int(res['fp'][j]),
                FN=int(res['fn'][j])) for res in results
            for j, thr in enumerate(res['thresholds'].tolist())
        ]
    return [
        dict(
            checkpoint=res.get('checkpoint'),
            threshold=round(thr, 10),
            mIoU=float(res['miou'][j]),
            OA=float(res['oa'][j]),
            mIoU_nan=float(res['miou_nan'][j]),
            IoU=res['iou'][j].tolist()) for res in results
        for j, thr in enumerate(res['thresholds'].tolist())
    ]


def dump_sweep(results: Sequence[dict],
               out_dir: str,
               selection: Optional[dict] = None,
               class_names: Optional[Sequence[str]] = None,
               meta: Optional[dict] = None,
               rule: str = 'pixel') -> Dict[str, str]:
    """Write ``sweep.csv`` and ``sweep.json`` (metrics as fractions).

    CSV columns: ``theta_rule, checkpoint, threshold, selected`` (1 on the
    selected row), then the rule's scores: ``mIoU, OA, mIoU_nan, IoU_0 ...
    IoU_{C-1}`` (``pixel``) or ``F1, precision, recall, TP, FP, FN``
    (``image-labels``), one row per (checkpoint, threshold); ``fixed``
    has the one row of its pair. The JSON holds the same rows plus
    ``selection`` (with ``rule``), ``best`` (the best pair by each
    criterion of the rule), the class names and ``meta``.
    """
    os.makedirs(out_dir, exist_ok=True)
    rows = _rows(results, rule)
    chosen = -1
    if selection is not None and selection.get('threshold_index') is not None:
        per = len(results[0]['thresholds'])
        chosen = selection['checkpoint_index'] * per + \
            selection['threshold_index']
    paths = dict(
        csv=osp.join(out_dir, 'sweep.csv'),
        json=osp.join(out_dir, 'sweep.json'))
    if rule == 'pixel':
        num_classes = len(rows[0]['IoU']) if rows else 0
        columns = ['mIoU', 'OA', 'mIoU_nan'] + [
            f'IoU_{c}' for c in range(num_classes)]

        def scores(r):
            return [repr(r['mIoU']), repr(r['OA']), repr(r['mIoU_nan'])] + [
                repr(v) for v in r['IoU']]
    elif rule == 'image-labels':
        columns = ['F1', 'precision', 'recall', 'TP', 'FP', 'FN']

        def scores(r):
            return [repr(r[k]) for k in ('F1', 'precision', 'recall')] + [
                str(r[k]) for k in ('TP', 'FP', 'FN')]
    else:
        columns = []
    with open(paths['csv'], 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(['theta_rule', 'checkpoint', 'threshold', 'selected'] +
                        columns)
        if rule == 'fixed':
            writer.writerow([rule, selection['checkpoint'],
                             f'{selection["threshold"]:.10g}', 1])
        for k, r in enumerate(rows):
            writer.writerow([rule, r['checkpoint'], f'{r["threshold"]:.10g}',
                             int(k == chosen)] + scores(r))
    if rule == 'pixel':
        best = {k: select_best(results, k) for k in CRITERIA}
    elif rule == 'image-labels':
        best = dict(f1=select_best_labels(results))
    else:
        best = {}
    summary = dict(
        selection=selection,
        best=best,
        class_names=list(class_names) if class_names is not None else None,
        meta=dict(meta or {}, theta_rule=rule),
        rows=rows)
    if rule == 'pixel':
        summary['num_pixels'] = [int(r['num_pixels']) for r in results]
    with open(paths['json'], 'w') as f:
        json.dump(summary, f, indent=1, allow_nan=True)
    return paths


def _names(results) -> List[str]:
    names = [osp.basename(r['checkpoint']) for r in results]
    if len(set(names)) < len(names):  # same file name in several runs
        names = [r['checkpoint'] for r in results]
    return names


def format_table(results, selection: dict, other: dict) -> str:
    """One line per (checkpoint, threshold), metrics in percent.

    ``*`` marks the selected pair, ``+`` the best by the other criterion.
    """
    names = _names(results)
    width = max(len(n) for n in names + ['checkpoint'])
    lines = [f'{"checkpoint":<{width}} {"theta":>6} {"mIoU(%)":>8} '
             f'{"OA(%)":>7} {"mIoU_nan(%)":>11}']
    for i, (res, name) in enumerate(zip(results, names)):
        for j, thr in enumerate(res['thresholds'].tolist()):
            mark = ''
            if (i, j) == (selection['checkpoint_index'],
                          selection['threshold_index']):
                mark += '*'
            if (i, j) == (other['checkpoint_index'],
                          other['threshold_index']):
                mark += '+'
            line = (f'{name:<{width}} {thr:6.4g} '
                    f'{100 * float(res["miou"][j]):8.2f} '
                    f'{100 * float(res["oa"][j]):7.2f} '
                    f'{100 * float(res["miou_nan"][j]):11.2f} {mark}')
            lines.append(line.rstrip())
    return '\n'.join(lines)


def format_label_table(results, selection: Optional[dict]) -> str:
    """The image-label sweep, one line per (checkpoint, threshold), in
    percent; ``*`` marks the selected pair."""
    names = _names(results)
    width = max(len(n) for n in names + ['checkpoint'])
    lines = [f'{"checkpoint":<{width}} {"theta":>6} {"F1(%)":>7} '
             f'{"P(%)":>7} {"R(%)":>7} {"TP":>6} {"FP":>6} {"FN":>6}']
    pick = (selection['checkpoint_index'], selection['threshold_index']) \
        if selection else None
    for i, (res, name) in enumerate(zip(results, names)):
        for j, thr in enumerate(res['thresholds'].tolist()):
            line = (f'{name:<{width}} {thr:6.4g} '
                    f'{100 * float(res["f1"][j]):7.2f} '
                    f'{100 * float(res["precision"][j]):7.2f} '
                    f'{100 * float(res["recall"][j]):7.2f} '
                    f'{int(res["tp"][j]):6d} {int(res["fp"][j]):6d} '
                    f'{int(res["fn"][j]):6d} {"*" if (i, j) == pick else ""}')
            lines.append(line.rstrip())
    return '\n'.join(lines)


def _pixel_selection(results, args, say):
    """Select by pixel truth on rank 0: the selection, or an error text."""
    if all(r['num_pixels'] == 0 for r in results):
        return NO_PIXEL_TRUTH.format(split=args.split)
    res = results[0]
    say(f'pixel truth in {res["num_labelled_windows"]} of '
        f'{res["num_windows"]} windows ({res["num_pixels"]} pixels); '
        'windows without any count for nothing')
    selection = select_best(results, args.select)
    other = select_best(results, 'miou' if args.select == 'oa' else 'oa')
    say(format_table(results, selection, other))
    say(f'* theta rule pixel, selected by {args.select}: '
        f'{selection["checkpoint"]} theta={selection["threshold"]:.4g} '
        f'(mIoU {100 * selection["mIoU"]:.2f}, '
        f'OA {100 * selection["OA"]:.2f})')
    say(f'+ best by {other["criterion"]}: {other["checkpoint"]} '
        f'theta={other["threshold"]:.4g} '
        f'(mIoU {100 * other["mIoU"]:.2f}, OA {100 * other["OA"]:.2f})')
    return selection


def _label_selection(results, args, say, gating: str):
    """Select by image labels on rank 0: the selection, or an error
    text."""
    selection = select_best_labels(results)
    say(format_label_table(results, selection))
    if selection is None:
        return ('--theta-rule image-labels: F1 is undefined at every '
                'threshold (no window has an image label and no class is '
                'present in the CAMs): check that the samples carry '
                'gt_cls_label')
    say(f'* theta rule image-labels (presence F1 of the ungated CAMs '
        f'against the image labels, a class present above '
        f'{selection["min_fraction"]:g} of a window; '
        f'{results[0]["num_windows"]} windows, '
        f'{results[0]["num_labelled_pairs"]} labelled (window, class) '
        f'pairs): {selection["checkpoint"]} '
        f'theta={selection["threshold"]:.4g} (F1 '
        f'{100 * selection["F1"]:.2f}, precision '
        f'{100 * selection["precision"]:.2f}, recall '
        f'{100 * selection["recall"]:.2f}); pseudo labels with '
        f'cam_gating={gating!r}')
    return selection


def main(argv=None):
    args = parse_args(argv)
    thresholds = ThresholdSweep.arange(*args.thresholds)
    if not thresholds:
        raise SystemExit('--thresholds gives no threshold')
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    prepare_cpu_distributed(cfg)  # gloo + no device ids without GPUs
    os.makedirs(args.out_dir, exist_ok=True)
    cfg = sweep_config(cfg, args, thresholds)
    cfg.work_dir = args.work_dir or osp.join(args.out_dir, 'logs')
    runner = Runner.from_cfg(cfg)
    rank, world = get_dist_info()

    def say(text: str) -> None:
        if rank == 0:
            print(text, flush=True)

    model = runner.model.module if is_model_wrapper(runner.model) \
        else runner.model
    head = model.decode_head
    if not hasattr(head, 'predict_cams'):
        raise SystemExit(f'{type(head).__name__} has no '
                         'predict_cams(): use a stage-1 config (SITSCAMHead '
                         '/ CBCAMHead)')
    gating = getattr(head, 'cam_gating', None)
    if args.theta_rule == 'image-labels' and \
            'none' not in getattr(head, 'GATINGS', ()):
        raise SystemExit(f'--theta-rule image-labels needs ungated CAMs: '
                         f'{type(head).__name__} has no cam_gating=none')
    dataset = runner.test_dataloader.dataset
    rule = args.theta_rule
    meta = dict(
        config=args.config,
        split=args.split,
        checkpoints=list(args.checkpoints),
        num_windows=len(dataset),
        num_processes=world,
        theta_rule=rule)
    say(f'{len(dataset)} windows ({args.split} split), theta rule {rule}, '
        + (f'theta {args.bg_threshold:g}, ' if rule == 'fixed' else
           f'{len(thresholds)} thresholds, ') +
        f'{len(args.checkpoints)} checkpoint(s), {world} process(es)')
    runner.call_hook('before_run')
    results = []
    if rule != 'fixed':
        metric = runner.test_loop.evaluator.metrics[0]
        name, load = ('threshold_sweep.json', load_sweep) \
            if rule == 'pixel' else ('image_label_sweep.json',
                                     load_label_sweep)
        if rule == 'image-labels':
            head.cam_gating = 'none'  # the sweep scores ungated CAMs
        for i, ckpt in enumerate(args.checkpoints):
            runner.load_checkpoint(ckpt, map_location='cpu', strict=True)
            metric.output_dir = osp.join(cfg.work_dir, f'sweep_{i}')
            runner.test_loop.run()
            if rank == 0:
                results.append(load(osp.join(metric.output_dir, name), ckpt))
        head.cam_gating = gating
    selection = [None]
    if rank == 0:
        if rule == 'fixed':
            selection = [dict(rule='fixed', criterion=None,
                              checkpoint=args.checkpoints[0],
                              checkpoint_index=0,
                              threshold=float(args.bg_threshold),
                              threshold_index=None)]
            say(f'* theta rule fixed: {args.checkpoints[0]} '
                f'theta={args.bg_threshold:.4g} (no sweep)')
        elif rule == 'pixel':
            selection = [_pixel_selection(results, args, say)]
        else:
            selection = [_label_selection(results, args, say, gating)]
        if isinstance(selection[0], dict):
            paths = dump_sweep(
                results, args.out_dir, selection[0],
                class_names=dataset.metainfo.get('classes'), meta=meta,
                rule=rule)
            say(f'sweep written to {paths["csv"]} and {paths["json"]}')
    broadcast_object_list(selection)
    selection = selection[0]
    if isinstance(selection, str):  # every rank stops
        raise SystemExit(selection)
    if args.sweep_only:
        runner.call_hook('after_run')
        return selection
    # the PNGs: the segmentor's own prediction at the selected theta
    start = time.time()
    head.bg_threshold = selection['threshold']
    runner.load_checkpoint(selection['checkpoint'], map_location='cpu',
                           strict=True)
    loop = runner.test_loop
    loop.evaluator = runner.build_evaluator(
        dict(type='SITSIoUMetric', format_only=True,
             output_dir=args.out_dir))
    loop.evaluator.dataset_meta = dataset.metainfo
    loop.run()  # its result collection waits for every rank's PNGs
    runner.call_hook('after_run')
    written = sum(
        osp.getmtime(p) >= start - 1
        for p in glob.glob(osp.join(args.out_dir, '*.png')))
    say(f'{written} pseudo labels written to {args.out_dir} (theta rule '
        f'{rule}, theta={selection["threshold"]:.4g}, cam_gating='
        f'{gating!r})')
    return selection


if __name__ == '__main__':
    from mmexact.utils import keep_freed_memory
    keep_freed_memory()  # as MallocTuningHook does in training
    main()
    cleanup_distributed(exit_process=True)
