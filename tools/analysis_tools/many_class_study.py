# Copyright (c) mmexact contributors. All rights reserved.
"""Exact's CB-CAMs against the vanilla CAM on many-class generated data.

Generates synthetic PASTIS data with all 18 crops and long series (by
default 40 patches of 120 x 120 pixels = 1,000 windows, 30-60 dates),
trains Exact's demo stage 1 (``configs/exact/exact_tsvit_1xb16-8e_demo-
24x24.py``, frames cut or padded to ``--max-seq-len``) in several
variants of the prototype step's chunking, and the vanilla CAM of the same
network and budget, then scores the CAMs of each last checkpoint on the
training folds with the threshold sweep of
``tools/exact/generate_pseudo_labels.py``: CAM mIoU at the mIoU-best theta
(over the classes present, as the demo table) and pseudo-label OA at the
OA-best theta (the reference's selection).

Variants (``--variants``):

- ``chunk8``: the demo config as shipped before ``chunk_average`` existed
  (prototype statistics per 8 samples, each chunk's L_cbl averaged);
- ``whole``: ``chunk_size=None`` (the whole 16-sample batch one chunk, as
  before the chunked statistics);
- ``chunk8-class``: chunks of 8 with ``chunk_average='class'`` (each
  class's L_cbl averaged over the chunks that hold it).

Every training and sweep is skipped when its outputs exist, so the study
can be stopped and resumed. Writes ``WORK_DIR/study.json`` and
``study.md``. ``--jobs 2`` runs two trainings side by side (one thread
each).
"""
import argparse
import json
import os
import os.path as osp
import platform
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, List

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOLS = osp.join(REPO, 'tools')
sys.path.insert(0, REPO)

from mmexact.utils import (data_root_options, pipeline_options,  # noqa: E402
                           run_python)
from mmexact.utils.tool_runs import write_study  # noqa: E402

EXACT = osp.join(REPO, 'configs', 'exact',
                 'exact_tsvit_1xb16-8e_demo-24x24.py')
CAM = osp.join(REPO, 'configs', 'cam', 'cam_tsvit_1xb16-8e_demo-24x24.py')
VARIANTS = {
    'chunk8': ['model.decode_head.chunk_average=chunk'],
    'whole': ['model.decode_head.chunk_size=None',
              'model.decode_head.chunk_average=chunk'],
    'chunk8-class': ['model.decode_head.chunk_average=class'],
}


def _run(args: List[str], log: str) -> None:
    env = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
    run_python(args, cwd=REPO, log=log, env=env, echo_root=REPO)


def data_options(config: str, root: str, max_seq_len: int) -> List[str]:
    """``--cfg-options`` pointing ``config`` at ``root``, with series cut
    or padded to ``max_seq_len`` dates."""
    return data_root_options(config, root) + pipeline_options(
        config, 'PadOrCutSequence', max_seq_len=max_seq_len)


def run_one(config: str, work: str, opts: List[str]) -> Dict:
    """Train (if needed) and sweep the last checkpoint; the CAM scores."""
    os.makedirs(work, exist_ok=True)
    log = osp.join(work, 'study.log')
    start = time.time()
    if not osp.isfile(osp.join(work, 'DONE')):
        _run([osp.join(TOOLS, 'train.py'), config, '--work-dir', work,
              '--cfg-options'] + opts, log)
        with open(osp.join(work, 'DONE'), 'w') as f:
            f.write(f'{time.time() - start:.0f}\n')
    sweep = osp.join(work, 'sweep', 'sweep.json')
    if not osp.isfile(sweep):
        last = max((f for f in os.listdir(work) if f.startswith('iter_')),
                   key=lambda f: int(f[5:-4]))
        _run([osp.join(TOOLS, 'exact', 'generate_pseudo_labels.py'), config,
              osp.join(work, last), '--out-dir', osp.dirname(sweep),
              '--select', 'miou', '--cfg-options'] + opts, log)
    with open(sweep) as f:
        best = json.load(f)['best']
    with open(osp.join(work, 'DONE')) as f:
        seconds = float(f.read().strip() or 0)
    return dict(cam_miou=round(100 * best['miou']['mIoU_nan'], 2),
                cam_threshold=best['miou']['threshold'],
                pseudo_label_oa=round(100 * best['oa']['OA'], 2),
                train_seconds=seconds)


def format_table(report: Dict) -> str:
    rows = report['results']
    seeds = report['seeds']
    lines = ['| variant | ' + ' | '.join(
        f'CB-CAM mIoU (seed {s}) | − vanilla | PL OA' for s in seeds) + ' |',
        '|---|' + '---|---|---|' * len(seeds)]
    for name in report['variants']:
        cells = []
        for s in seeds:
            r, v = rows[f'{name}/{s}'], rows[f'vanilla/{s}']
            cells.append(f'{r["cam_miou"]:.1f} | '
                         f'{r["cam_miou"] - v["cam_miou"]:+.1f} | '
                         f'{r["pseudo_label_oa"]:.1f}')
        lines.append(f'| {name} | ' + ' | '.join(cells) + ' |')
    lines.append('| vanilla CAM | ' + ' | '.join(
        f'{rows[f"vanilla/{s}"]["cam_miou"]:.1f} | – | '
        f'{rows[f"vanilla/{s}"]["pseudo_label_oa"]:.1f}'
        for s in seeds) + ' |')
    return '\n'.join(lines)


def main(argv=None) -> Dict:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--work-dir', default=osp.join(
        REPO, 'work_dirs', 'many_class_study'))
    parser.add_argument('--num-patches', type=int, default=40)
    parser.add_argument('--size', type=int, default=120)
    parser.add_argument('--min-dates', type=int, default=30)
    parser.add_argument('--max-dates', type=int, default=60)
    parser.add_argument('--max-seq-len', type=int, default=60)
    parser.add_argument('--data-seed', type=int, default=0)
    parser.add_argument('--seeds', type=int, nargs='+', default=[0])
    parser.add_argument('--variants', nargs='+', default=list(VARIANTS),
                        choices=list(VARIANTS))
    parser.add_argument('--cfg-options', nargs='*', default=[],
                        help='extra options of every training')
    parser.add_argument('--exact-cfg-options', nargs='*', default=[],
                        help="extra options of Exact's trainings only")
    parser.add_argument('--jobs', type=int, default=1)
    args = parser.parse_args(argv)
    work = osp.abspath(args.work_dir)
    data = osp.join(work, 'data')
    if not osp.isfile(osp.join(data, 'metadata.geojson')):
        os.makedirs(work, exist_ok=True)
        _run([osp.join(TOOLS, 'dataset_converters',
                       'make_synthetic_pastis.py'), data, '--num-patches',
              str(args.num_patches), '--size', str(args.size), '--seed',
              str(args.data_seed), '--min-dates', str(args.min_dates),
              '--max-dates', str(args.max_dates), '--stats'],
             osp.join(work, 'data.log'))
    opts = {c: data_options(c, data, args.max_seq_len) + args.cfg_options
            for c in (CAM, EXACT)}
    jobs = {}
    for seed in args.seeds:
        seed_opts = [f'randomness.seed={seed}']
        jobs[f'vanilla/{seed}'] = (CAM, osp.join(work, f'vanilla_s{seed}'),
                                   opts[CAM] + seed_opts)
        for name in args.variants:
            jobs[f'{name}/{seed}'] = (EXACT,
                                      osp.join(work, f'{name}_s{seed}'),
                                      opts[EXACT] + seed_opts +
                                      VARIANTS[name] +
                                      args.exact_cfg_options)
    with ThreadPoolExecutor(args.jobs) as pool:
        futures = {k: pool.submit(run_one, *v) for k, v in jobs.items()}
        results = {k: f.result() for k, f in futures.items()}
    report = dict(
        date=time.strftime('%Y-%m-%d'),
        host=f'{platform.processor() or platform.machine()}, '
        f'{os.cpu_count()} CPUs',
        command=' '.join(['python', 'tools/analysis_tools/'
                          'many_class_study.py'] + (argv or sys.argv[1:])),
        data=dict(num_patches=args.num_patches, size=args.size,
                  dates=(args.min_dates, args.max_dates),
                  max_seq_len=args.max_seq_len, seed=args.data_seed,
                  crops=18),
        seeds=args.seeds, variants=args.variants, results=results)
    write_study(work, report, format_table(report))
    return report


if __name__ == '__main__':
    main()
