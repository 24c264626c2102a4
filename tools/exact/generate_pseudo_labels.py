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
table of the sweep goes to ``sweep.csv`` and ``sweep.json``. With
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

CRITERIA = dict(oa='oa', miou='miou')


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
        help='selection criterion (reference: oa)')
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
    res.update(num_pixels=int(sweep['num_pixels']), checkpoint=checkpoint)
    return res


def select_best(results: Sequence[dict], criterion: str = 'oa') -> dict:
    """The (checkpoint, threshold) pair with the best ``criterion``.

    Ties go to the earlier checkpoint, then to the lower threshold.

    Returns:
        dict: ``criterion``, ``checkpoint``, ``checkpoint_index``,
        ``threshold``, ``threshold_index``, ``mIoU``, ``OA``, ``mIoU_nan``
        (fractions).
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
        criterion=criterion,
        checkpoint=res.get('checkpoint'),
        checkpoint_index=i,
        threshold=float(res['thresholds'][j]),
        threshold_index=j,
        mIoU=float(res['miou'][j]),
        OA=float(res['oa'][j]),
        mIoU_nan=float(res['miou_nan'][j]))


def _rows(results: Sequence[dict]) -> List[dict]:
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
               meta: Optional[dict] = None) -> Dict[str, str]:
    """Write ``sweep.csv`` and ``sweep.json`` (metrics as fractions).

    CSV columns: ``checkpoint, threshold, mIoU, OA, mIoU_nan, IoU_0 ...
    IoU_{C-1}``, one row per (checkpoint, threshold). The JSON holds the
    same rows plus ``selection``, the best pair by each criterion, the
    class names and ``meta``.
    """
    os.makedirs(out_dir, exist_ok=True)
    rows = _rows(results)
    num_classes = len(rows[0]['IoU']) if rows else 0
    paths = dict(
        csv=osp.join(out_dir, 'sweep.csv'),
        json=osp.join(out_dir, 'sweep.json'))
    with open(paths['csv'], 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(['checkpoint', 'threshold', 'mIoU', 'OA', 'mIoU_nan'] +
                        [f'IoU_{c}' for c in range(num_classes)])
        for r in rows:
            writer.writerow([
                r['checkpoint'], f'{r["threshold"]:.10g}', repr(r['mIoU']),
                repr(r['OA']), repr(r['mIoU_nan'])
            ] + [repr(v) for v in r['IoU']])
    summary = dict(
        selection=selection,
        best={k: select_best(results, k) for k in CRITERIA},
        class_names=list(class_names) if class_names is not None else None,
        num_pixels=[int(r['num_pixels']) for r in results],
        meta=meta or {},
        rows=rows)
    with open(paths['json'], 'w') as f:
        json.dump(summary, f, indent=1, allow_nan=True)
    return paths


def format_table(results, selection: dict, other: dict) -> str:
    """One line per (checkpoint, threshold), metrics in percent.

    ``*`` marks the selected pair, ``+`` the best by the other criterion.
    """
    names = [osp.basename(r['checkpoint']) for r in results]
    if len(set(names)) < len(names):  # same file name in several runs
        names = [r['checkpoint'] for r in results]
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
    if not hasattr(model.decode_head, 'predict_cams'):
        raise SystemExit(f'{type(model.decode_head).__name__} has no '
                         'predict_cams(): use a stage-1 config (SITSCAMHead '
                         '/ CBCAMHead)')
    dataset = runner.test_dataloader.dataset
    say(f'{len(dataset)} windows ({args.split} split), '
        f'{len(thresholds)} thresholds, {len(args.checkpoints)} '
        f'checkpoint(s), {world} process(es)')
    runner.call_hook('before_run')
    metric = runner.test_loop.evaluator.metrics[0]
    results = []
    for i, ckpt in enumerate(args.checkpoints):
        runner.load_checkpoint(ckpt, map_location='cpu', strict=True)
        metric.output_dir = osp.join(cfg.work_dir, f'sweep_{i}')
        runner.test_loop.run()
        if rank == 0:
            results.append(load_sweep(
                osp.join(metric.output_dir, 'threshold_sweep.json'), ckpt))
    selection = [None]
    if rank == 0:
        selection = [select_best(results, args.select)]
        other = select_best(results, 'miou' if args.select == 'oa' else 'oa')
        say(format_table(results, selection[0], other))
        say(f'* selected by {args.select}: {selection[0]["checkpoint"]} '
            f'theta={selection[0]["threshold"]:.4g} '
            f'(mIoU {100 * selection[0]["mIoU"]:.2f}, '
            f'OA {100 * selection[0]["OA"]:.2f})')
        say(f'+ best by {other["criterion"]}: {other["checkpoint"]} '
            f'theta={other["threshold"]:.4g} '
            f'(mIoU {100 * other["mIoU"]:.2f}, OA {100 * other["OA"]:.2f})')
        paths = dump_sweep(
            results,
            args.out_dir,
            selection[0],
            class_names=dataset.metainfo.get('classes'),
            meta=dict(
                config=args.config,
                split=args.split,
                checkpoints=list(args.checkpoints),
                num_windows=len(dataset),
                num_processes=world))
        say(f'sweep written to {paths["csv"]} and {paths["json"]}')
    broadcast_object_list(selection)
    selection = selection[0]
    # the PNGs: the segmentor's own prediction at the selected theta
    start = time.time()
    model.decode_head.bg_threshold = selection['threshold']
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
    say(f'{written} pseudo labels written to {args.out_dir}')
    return selection


if __name__ == '__main__':
    from mmexact.utils import keep_freed_memory
    keep_freed_memory()  # as MallocTuningHook does in training
    main()
    cleanup_distributed(exit_process=True)
