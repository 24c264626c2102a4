# Copyright (c) mmexact contributors. All rights reserved.
"""How far the label-free theta rule lands from the pixel-truth optimum.

Trains Exact's stage 1 on generated data with pixel truth (by default the
miniature of ``make demo``: ``configs/exact/exact_tsvit_1xb8-20e_demo-
mini-24x24.py`` on ``DEMO_MINI``, about a minute per seed on one thread;
``--data demo`` for the demo's data and config), then chooses the
(checkpoint, theta) pair over the checkpoints from the prototype warm-up on
in two ways with ``tools/exact/generate_pseudo_labels.py --sweep-only``:

- ``--theta-rule pixel``: the pixel-truth sweep (Exact's protocol, OA;
  its table also gives the pseudo-label mIoU / OA at every pair);
- ``--theta-rule image-labels``: image labels only (presence F1 of the
  ungated CAMs, :class:`ImageLabelSweepMetric`);

and reports the pseudo-label quality (pixel truth of the training folds)
at the pair of each rule, at the mIoU-best pair, at the image-label rule's
theta on the last checkpoint (theta chosen, not the checkpoint), and at
the head's default theta (0.35) on the last checkpoint. Every training and
sweep is skipped when its outputs exist. Writes ``WORK_DIR/study.json``
and ``study.md``::

    OMP_NUM_THREADS=1 python tools/analysis_tools/theta_rule_study.py \\
        --seeds 0 1 2
"""
import argparse
import json
import os
import os.path as osp
import platform
import subprocess
import sys
import time
from typing import Dict, List, Optional

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOLS = osp.join(REPO, 'tools')
sys.path.insert(0, REPO)

from mmexact.testing.demo_data import (DEMO_DATA, DEMO_MINI,  # noqa: E402
                                       make_demo_data)
from mmexact.utils import (checkpoint_iter, data_root_options,  # noqa: E402
                           iter_checkpoints, run_python)
from mmexact.utils.tool_runs import write_study  # noqa: E402

DATA = dict(
    mini=(DEMO_MINI, osp.join(REPO, 'configs', 'exact',
                              'exact_tsvit_1xb8-20e_demo-mini-24x24.py')),
    demo=(DEMO_DATA, osp.join(REPO, 'configs', 'exact',
                              'exact_tsvit_1xb16-8e_demo-24x24.py')))
#: the head's default theta (SITSCAMHead.bg_threshold)
DEFAULT_THETA = 0.35


def _run(args: List[str], log: str) -> None:
    env = dict(os.environ)
    env.setdefault('OMP_NUM_THREADS', '1')
    env.setdefault('MKL_NUM_THREADS', env['OMP_NUM_THREADS'])
    run_python(args, cwd=REPO, log=log, env=env, echo_root=REPO)


def _checkpoints(config: str, work: str) -> List[str]:
    """The stage-1 checkpoints from the prototype warm-up on (one
    process: the file name's iteration is the training step)."""
    from mmengine.config import Config
    start = Config.fromfile(config).model.decode_head.get(
        'proto_start_iter', 0)
    ckpts = [c for c in iter_checkpoints(work) if checkpoint_iter(c) >= start]
    if not ckpts:
        raise SystemExit(f'no checkpoint of {work} is past the prototype '
                         f'warm-up (step {start})')
    return ckpts


def _pair(rows: List[dict], checkpoint: str, theta: float) -> dict:
    for r in rows:
        if r['checkpoint'] == checkpoint and abs(r['threshold'] - theta) < \
                1e-9:
            return r
    raise KeyError(f'no pixel-sweep row for {checkpoint} theta={theta}')


def compare(pixel: dict, labels: dict,
            default_theta: float = DEFAULT_THETA) -> Dict[str, dict]:
    """Pseudo-label quality at the pair of each rule.

    Args:
        pixel (dict): ``sweep.json`` of ``--theta-rule pixel``.
        labels (dict): ``sweep.json`` of ``--theta-rule image-labels`` (the
            same checkpoints and thresholds).
        default_theta (float): theta of the ``default`` row (last
            checkpoint).

    Returns:
        dict: per choice (``pixel_oa``, ``pixel_miou``, ``image_labels``,
        ``image_labels_last``: its theta on the last checkpoint,
        ``default``) the ``checkpoint`` (file name), ``theta`` and the
        pixel-truth ``mIoU``, ``mIoU_nan``, ``OA`` in percent (and the
        presence ``F1`` of the image-label choices).
    """
    rows = pixel['rows']
    last = pixel['meta']['checkpoints'][-1]
    # the image-label rule's theta with the checkpoint fixed to the last
    # (first maximum: the lowest theta on ties)
    on_last = [r for r in labels['rows'] if r['checkpoint'] == last and
               r['F1'] == r['F1']]
    best_last = max(on_last, key=lambda r: r['F1']) if on_last else None
    picks = dict(
        pixel_oa=pixel['best']['oa'],
        pixel_miou=pixel['best']['miou'],
        image_labels=labels['selection'],
        image_labels_last=dict(checkpoint=last,
                               threshold=best_last['threshold'],
                               F1=best_last['F1']) if best_last else None,
        default=dict(checkpoint=last, threshold=default_theta))
    out = {}
    for name, pick in picks.items():
        if pick is None:
            continue
        row = _pair(rows, pick['checkpoint'], pick['threshold'])
        out[name] = dict(
            checkpoint=osp.basename(pick['checkpoint']),
            theta=pick['threshold'],
            mIoU=round(100 * row['mIoU'], 2),
            mIoU_nan=round(100 * row['mIoU_nan'], 2),
            OA=round(100 * row['OA'], 2))
        if 'F1' in pick:
            out[name]['F1'] = round(100 * pick['F1'], 2)
    return out


def run_seed(config: str, data: str, work: str, seed: int,
             extra: List[str]) -> Dict[str, dict]:
    """Train (if needed), run both sweeps (if needed) and compare."""
    os.makedirs(work, exist_ok=True)
    log = osp.join(work, 'study.log')
    opts = data_root_options(config, data) + [f'randomness.seed={seed}'
                                              ] + extra
    if not osp.isfile(osp.join(work, 'DONE')):
        start = time.time()
        _run([osp.join(TOOLS, 'train.py'), config, '--work-dir', work,
              '--cfg-options'] + opts, log)
        with open(osp.join(work, 'DONE'), 'w') as f:
            f.write(f'{time.time() - start:.0f}\n')
    ckpts = _checkpoints(config, work)
    sweeps = {}
    for rule in ('pixel', 'image-labels'):
        out = osp.join(work, f'sweep_{rule}')
        if not osp.isfile(osp.join(out, 'sweep.json')):
            _run([osp.join(TOOLS, 'exact', 'generate_pseudo_labels.py'),
                  config, *ckpts, '--out-dir', out, '--theta-rule', rule,
                  '--sweep-only', '--cfg-options'] + opts, log)
        with open(osp.join(out, 'sweep.json')) as f:
            sweeps[rule] = json.load(f)
    return compare(sweeps['pixel'], sweeps['image-labels'])


LABELS = dict(pixel_oa='pixel truth, OA (Exact)',
              pixel_miou='pixel truth, mIoU (oracle)',
              image_labels='image labels, presence F1',
              image_labels_last='image labels, theta only (last ckpt)',
              default=f'fixed theta {DEFAULT_THETA}, last checkpoint')


def format_table(results: Dict[str, Dict[str, dict]]) -> str:
    lines = ['| seed | choice | checkpoint | theta | PL mIoU | '
             'PL mIoU (present) | PL OA |', '|---|---|---|---|---|---|---|']
    for seed, res in results.items():
        for name, label in LABELS.items():
            if name not in res:
                continue
            r = res[name]
            lines.append(f'| {seed} | {label} | {r["checkpoint"]} | '
                         f'{r["theta"]:.2f} | {r["mIoU"]:.2f} | '
                         f'{r["mIoU_nan"]:.2f} | {r["OA"]:.2f} |')
    return '\n'.join(lines)


def _host() -> str:
    try:
        out = subprocess.run(['lscpu'], capture_output=True, text=True,
                             check=True).stdout
        name = next(line.split(':', 1)[1].strip()
                    for line in out.splitlines()
                    if line.startswith('Model name'))
    except (OSError, subprocess.CalledProcessError, StopIteration):
        name = platform.processor() or platform.machine()
    return f'{name}, {os.cpu_count()} CPUs'


def main(argv: Optional[List[str]] = None) -> Dict:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--work-dir', default=osp.join(
        REPO, 'work_dirs', 'theta_rule_study'))
    parser.add_argument('--data', choices=sorted(DATA), default='mini',
                        help='the demo miniature (default) or the demo')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0],
                        help='randomness.seed of the trainings')
    parser.add_argument('--cfg-options', nargs='*', default=[],
                        help='extra key=value options of every run')
    args = parser.parse_args(argv)
    work = osp.abspath(args.work_dir)
    spec, config = DATA[args.data]
    data = make_demo_data(osp.join(work, 'data'), spec)
    results = {
        seed: run_seed(config, data, osp.join(work, f'seed{seed}'), seed,
                       args.cfg_options)
        for seed in args.seeds
    }
    report = dict(
        date=time.strftime('%Y-%m-%d'),
        host=_host(),
        command=' '.join(['python', 'tools/analysis_tools/'
                          'theta_rule_study.py'] +
                         (sys.argv[1:] if argv is None else argv)),
        data=args.data, config=osp.relpath(config, REPO),
        seeds=args.seeds, results=results)
    write_study(work, report, format_table(results))
    return report


if __name__ == '__main__':
    main()
