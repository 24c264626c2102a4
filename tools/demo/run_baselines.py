# Copyright (c) mmexact contributors. All rights reserved.
"""SITS baselines beside Exact on the demo data, with equal budgets.

Trains, on the synthetic PASTIS data of ``make demo`` and with the budget
of the fully supervised demo network (1 process x batch 16, the same
schedule, ``--epochs`` epochs, 8 by default, set as
``train_cfg.max_epochs`` alone: the demo schedules' cosine and their LR
warm-up (1/8 of the schedule) follow it; Exact's prototype warm-up
(step 100 of 8 epochs) is scaled in proportion):

- fully supervised segmentation: TSViT, U-TAE, UNet3D, U-Net + ConvLSTM,
  FPN + ConvLSTM, BiConvGRU (``configs/*/*_1xb16-8e_demo-24x24.py``),
  scored on the test fold (fold 5) with the checkpoint that is best on the
  validation fold;
- weakly supervised (image-level labels): the vanilla CAM, CAM + PAMR and
  CAM + TAAP (one training: the refiners have no parameters and only act
  on the CAMs) and Exact. Their CAMs are scored like Exact's, by the
  background-threshold sweep of ``tools/exact/generate_pseudo_labels.py`` on the
  training folds (best theta by mIoU). Exact's stage-2 network (TSViT
  trained on its pseudo labels) is also scored on the test fold. Exact's
  numbers come from ``make demo`` (``work_dirs/demo``) when it ran with
  the same budget, otherwise its pipeline runs here.

Prints one table (mIoU over the classes present, as mmseg; OA; parameters;
training time) and writes it to ``WORK_DIR/baselines.json`` and
``baselines.md``. Every step is skipped when its outputs exist, so a
second run only prints the table. ``--mini`` runs a miniature (tests): the
first 4 iterations of the same schedule.
"""
import argparse
import json
import os
import os.path as osp
import platform
import sys
import time
from typing import Dict, List, Optional

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOLS = osp.join(REPO, 'tools')
sys.path.insert(0, REPO)

from mmexact.testing.demo_data import (DEMO_DATA, DEMO_MINI,  # noqa: E402
                                       make_demo_data)
from mmexact.utils import (data_root_options, iter_checkpoints,  # noqa: E402
                           run_python)
DEMO_BUDGET = 8  # epochs of the demo configs
SUPERVISED = [  # key, label, config
    ('tsvit', 'TSViT', 'tsvit/tsvit_1xb16-8e_demo-24x24.py'),
    ('utae', 'U-TAE', 'utae/utae_1xb16-8e_demo-24x24.py'),
    ('unet3d', 'UNet3D', 'unet3d/unet3d_1xb16-8e_demo-24x24.py'),
    ('unet-convlstm', 'U-Net + ConvLSTM',
     'unet_convlstm/unet-convlstm_1xb16-8e_demo-24x24.py'),
    ('fpn-convlstm', 'FPN + ConvLSTM',
     'fpn_convlstm/fpn-convlstm_1xb16-8e_demo-24x24.py'),
    ('biconvgru', 'BiConvGRU', 'biconvgru/biconvgru_1xb16-8e_demo-24x24.py'),
]
CAMS = [  # key, label, config (all trained as the vanilla CAM)
    ('cam', 'vanilla CAM', 'cam/cam_tsvit_1xb16-8e_demo-24x24.py'),
    ('cam-pamr', 'CAM + PAMR', 'cam/cam-pamr_tsvit_1xb16-8e_demo-24x24.py'),
    ('cam-taap', 'CAM + TAAP', 'cam/cam-taap_tsvit_1xb16-8e_demo-24x24.py'),
]
EXACT = 'exact/exact_tsvit_1xb16-8e_demo-24x24.py'
SEG_EVAL = 'test fold'
CAM_EVAL = 'CAMs, train folds, best θ'


def _config(rel: str) -> str:
    return osp.join(REPO, 'configs', rel)


def _run(args: List[str]) -> float:
    """Run a tool with this interpreter; returns its wall time (s)."""
    return run_python(args, cwd=REPO, echo_root=REPO)


def _json(path: str, value: Optional[Dict] = None) -> Dict:
    if value is not None:
        os.makedirs(osp.dirname(path), exist_ok=True)
        with open(path, 'w') as f:
            json.dump(value, f, indent=2)
        return value
    with open(path) as f:
        return json.load(f)


def _checkpoints(work: str, prefix: str) -> List[str]:
    return [osp.basename(p) for p in iter_checkpoints(work, prefix)]


#: data of ``--mini`` (tests), changes to the demo miniature's: 10 patches
#: of 48 x 48 pixels with 6-8 dates
MINI = dict(num_patches=10, min_dates=6, max_dates=8)


def budget_options(epochs: int, mini: bool) -> List[str]:
    """Config overrides shared by every training: the schedule.

    ``train_cfg.max_epochs`` alone: the schedulers of the demo configs last
    ``max_epochs`` and warm up for 1/8 of it (``round(epochs / 8)``
    epochs). The mini stops after 4 iterations of that schedule.
    """
    opts = [f'train_cfg.max_epochs={epochs}']
    if mini:
        opts += ['train_cfg.max_iters=4',
                 'default_hooks.checkpoint.interval=2']
    return opts


def data_options(config: str, data_root: str) -> List[str]:
    """``--cfg-options`` that point ``config`` at ``data_root``."""
    return data_root_options(config, data_root)


def exact_options(epochs: int, mini: bool) -> List[str]:
    """Exact's prototype warm-up at the same fraction of the schedule as in
    the demo config (step 100 of 8 epochs), and checkpoints that leave the
    threshold sweep at least two after it."""
    if mini:
        return ['model.decode_head.proto_start_iter=2',
                'default_hooks.checkpoint.interval=1']
    return [f'model.decode_head.proto_start_iter='
            f'{max(1, round(100 * epochs / DEMO_BUDGET))}']


def count_parameters(config: str) -> int:
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    import mmexact  # noqa: F401
    from mmseg.registry import MODELS
    init_default_scope('mmseg')
    model = MODELS.build(Config.fromfile(config).model)
    return sum(p.numel() for p in model.parameters())


def train(config: str, work: str, opts: List[str]) -> float:
    """Train once; returns (and remembers) the training wall time."""
    done = osp.join(work, 'train_time.json')
    if not osp.isfile(done):
        seconds = _run([osp.join(TOOLS, 'train.py'), config, '--work-dir',
                        work, '--cfg-options'] + opts)
        _json(done, dict(seconds=seconds))
    return _json(done)['seconds']


def test_best(config: str, work: str, opts: List[str]) -> Dict:
    """Test-fold metrics of the checkpoint best on the validation fold."""
    out = osp.join(work, 'test_metrics.json')
    if not osp.isfile(out):
        ckpt = (_checkpoints(work, 'best_') or _checkpoints(work, 'iter_'))[-1]
        _run([osp.join(TOOLS, 'test.py'), config, osp.join(work, ckpt),
              '--work-dir', work, '--metrics-out', out, '--cfg-options'] +
             opts)
    return _json(out)


def cam_sweep(config: str, ckpt: str, out: str, opts: List[str]) -> Dict:
    """Best-theta (by mIoU) CAM quality on the training folds."""
    if not osp.isfile(osp.join(out, 'sweep.json')):
        _run([osp.join(TOOLS, 'exact', 'generate_pseudo_labels.py'), config,
              ckpt,
              '--out-dir', out, '--select', 'miou', '--cfg-options'] + opts)
    return _json(osp.join(out, 'sweep.json'))['selection']


def _row(key, label, supervision, evaluation, miou, oa, params, seconds,
         note=''):
    return dict(key=key, method=label, supervision=supervision,
                evaluation=evaluation, mIoU=miou, OA=oa, parameters=params,
                train_seconds=seconds, note=note)


def exact_rows(work: str, data_root: str, opts: List[str], epochs: int,
               mini: bool, demo_dir: str) -> List[Dict]:
    """Exact's CB-CAM and stage-2 rows (from ``make demo`` if it ran with
    this budget and data, else from its pipeline run here with the budget
    ``opts`` and the data options of each stage's config)."""
    config = _config(EXACT)
    from mmengine.config import Config
    stage2 = osp.join(osp.dirname(config),
                      Config.fromfile(config)['stage2_config'])
    params = (count_parameters(config), count_parameters(stage2))
    demo_pipe = osp.join(demo_dir, 'exact')
    default_root = osp.join(REPO, 'data', 'demo', 'synthetic_pastis')
    if (not mini and epochs == DEMO_BUDGET
            and osp.abspath(data_root) == default_root
            and osp.isfile(osp.join(demo_dir, 'demo_results.json'))
            and osp.isfile(osp.join(demo_pipe, 'stage1', 'sweep',
                                    'sweep.json'))):
        cam = _json(osp.join(demo_pipe, 'stage1', 'sweep',
                             'sweep.json'))['selection']
        seg = _json(osp.join(demo_pipe, 'stage2_test_metrics.json'))
        times = (None, None)
        note = 'from make demo'
    else:
        pipe = osp.join(work, 'exact')
        tool = osp.join(TOOLS, 'exact', 'run_exact_pipeline.py')
        stage1_opts = data_options(config, data_root) + exact_options(
            epochs, mini)
        args = [tool, config, '--work-dir', pipe, '--select', 'oa',
                '--cfg-options', *opts, '--stage1-cfg-options', *stage1_opts,
                '--stage2-cfg-options', *data_options(stage2, data_root)]
        timing = osp.join(pipe, 'train_time.json')
        if not osp.isfile(timing):
            t1 = _run(args + ['--stop-after', 'stage1'])
            _run(args + ['--stop-after', 'pseudo'])
            t2 = _run(args)  # stage-2 training (+ its test)
            _json(timing, dict(stage1=t1, stage2=t2))
        t = _json(timing)
        times = (t['stage1'], t['stage1'] + t['stage2'])
        stage1 = osp.join(pipe, 'stage1')
        last = _checkpoints(stage1, 'iter_')[-1]
        cam = cam_sweep(config, osp.join(stage1, last),
                        osp.join(stage1, 'sweep'),
                        data_options(config, data_root) + opts)
        seg = _json(osp.join(pipe, 'stage2_test_metrics.json'))
        note = ''
    return [
        _row('exact', 'Exact (CB-CAM)', 'image labels', CAM_EVAL,
             100 * cam['mIoU_nan'], 100 * cam['OA'], params[0], times[0],
             note),
        _row('exact-stage2', 'Exact, stage 2 (TSViT on its pseudo labels)',
             'image labels', SEG_EVAL, seg['mIoU'], seg['aAcc'], params[1],
             times[1], note or 'time: stage 1 + stage 2'),
    ]


def machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    model = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    return f'{model}, {os.cpu_count()} cores, {platform.machine()}'


def format_table(report: Dict) -> str:
    lines = [
        '| method | supervision | evaluation | mIoU | OA | parameters | '
        'training time |', '|---|---|---|---|---|---|---|'
    ]
    for r in report['rows']:
        secs = r['train_seconds']
        time_txt = 'n/a' if secs is None else f'{secs / 60:.1f} min'
        if r['note'] and r['note'] != 'time: stage 1 + stage 2':
            time_txt += f' ({r["note"]})'
        lines.append(
            f'| {r["method"]} | {r["supervision"]} | {r["evaluation"]} | '
            f'{r["mIoU"]:.1f} | {r["OA"]:.1f} | {r["parameters"]:,} | '
            f'{time_txt} |')
    return '\n'.join(lines)


def main(argv=None) -> Dict:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--work-dir', default=osp.join(REPO, 'work_dirs',
                                                       'baselines'))
    parser.add_argument('--data-root', default=osp.join(
        REPO, 'data', 'demo', 'synthetic_pastis'))
    parser.add_argument('--epochs', type=int, default=DEMO_BUDGET,
                        help='training epochs of every method (default: '
                        'the demo budget, 8)')
    parser.add_argument('--demo-dir', default=osp.join(REPO, 'work_dirs',
                                                       'demo'),
                        help='work dir of `make demo` (Exact\'s results)')
    parser.add_argument('--methods', nargs='+',
                        help='subset of method keys (default: all)')
    parser.add_argument('--mini', action='store_true',
                        help='4-iteration miniature (tests)')
    args = parser.parse_args(argv)
    start = time.time()
    work = osp.abspath(args.work_dir)
    data_root = osp.abspath(args.data_root)
    os.makedirs(work, exist_ok=True)
    data = dict(DEMO_MINI, **MINI) if args.mini else DEMO_DATA
    make_demo_data(data_root, data)
    budget = budget_options(args.epochs, args.mini)

    def opts(rel: str) -> List[str]:
        return data_options(_config(rel), data_root) + budget

    keys = [k for k, _, _ in SUPERVISED + CAMS] + ['exact']
    wanted = set(args.methods or keys)
    unknown = wanted - set(keys)
    if unknown:
        parser.error(f'unknown method(s) {sorted(unknown)}; choose from '
                     f'{keys}')
    rows = []
    for key, label, rel in SUPERVISED:
        if key not in wanted:
            continue
        run = osp.join(work, key)
        seconds = train(_config(rel), run, opts(rel))
        metrics = test_best(_config(rel), run, opts(rel))
        rows.append(_row(key, label, 'full', SEG_EVAL, metrics['mIoU'],
                         metrics['aAcc'], count_parameters(_config(rel)),
                         seconds))
    if wanted & {k for k, _, _ in CAMS}:
        run = osp.join(work, 'cam')
        seconds = train(_config(CAMS[0][2]), run, opts(CAMS[0][2]))
        last = osp.join(run, _checkpoints(run, 'iter_')[-1])
        for key, label, rel in CAMS:
            if key not in wanted:
                continue
            sel = cam_sweep(_config(rel), last,
                            osp.join(run, f'sweep_{key}'), opts(rel))
            rows.append(_row(key, label, 'image labels', CAM_EVAL,
                             100 * sel['mIoU_nan'], 100 * sel['OA'],
                             count_parameters(_config(rel)), seconds,
                             '' if key == 'cam' else
                             'trained as the vanilla CAM'))
    if 'exact' in wanted:
        rows += exact_rows(work, data_root, budget, args.epochs, args.mini,
                           osp.abspath(args.demo_dir))
    old = osp.join(work, 'baselines.json')
    seconds = round(time.time() - start)
    if osp.isfile(old):  # keep the time of the run that did the work
        seconds = max(seconds, _json(old).get('seconds', 0))
    report = dict(
        rows=rows,
        epochs=None if args.mini else args.epochs,
        batch_size=16,
        data=data,
        seconds=seconds,
        date=time.strftime('%Y-%m-%d'),
        machine=machine(),
        threads=os.environ.get('OMP_NUM_THREADS'))
    _json(old, report)
    table = format_table(report)
    with open(osp.join(work, 'baselines.md'), 'w') as f:
        f.write(table + '\n')
    print('\n' + table)
    budget = '4 iterations' if args.mini else f'{args.epochs} epochs'
    print(f'\n{report["date"]}, {report["machine"]}, {seconds} s; '
          f'{budget} x batch 16 per training')
    return report


if __name__ == '__main__':
    main()
