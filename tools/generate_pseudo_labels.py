# Copyright (c) mmexact contributors. All rights reserved.
"""Select a stage-1 checkpoint and threshold, then write pseudo labels.

Exact's stage 3 (exact-method.md §7.2-7.3): for every checkpoint, one pass
over the split computes the CB-CAMs and evaluates all background
thresholds at once; the (checkpoint, threshold) pair with the best OA (the
reference; ``--select miou`` for the plain-mean mIoU) is then used for a
second pass that writes ``<out-dir>/<sample_id>.png`` for every window.
The table of the sweep goes to ``sweep.csv`` and ``sweep.json``.

The CAMs of every checkpoint are cached under ``--cache-dir`` (default
``<out-dir>/cam_cache``; the present classes' maps, float32, and the
ground truth): a re-sweep with other thresholds or ``--select`` reads them
instead of running the network, and the pseudo labels are written from
them. With ``--launcher pytorch`` (``tools/dist_generate_pseudo_labels.sh``)
the windows are sharded across processes in whole batches, the sweep
histograms are summed and every PNG is written once: the result is
bitwise equal to one process.

Example::

    python tools/generate_pseudo_labels.py \\
        configs/exact/exact_tsvit_pastis.py work_dirs/exact/iter_*000.pth \\
        --out-dir data/PASTIS24/pseudo_labels
    tools/dist_generate_pseudo_labels.sh configs/exact/exact_tsvit_pastis.py \\
        8 work_dirs/exact/iter_*000.pth --out-dir data/PASTIS24/pseudo_labels
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import mmexact  # noqa: E402,F401  (registers components, checkpoint fix)
import torch  # noqa: E402
from mmengine.config import Config, DictAction  # noqa: E402

from mmexact.apis import (build_cam_dataloader, build_cam_model,  # noqa
                          checkpoint_cache_dir, cleanup_distributed,
                          dump_sweep, init_distributed, load_cam_checkpoint,
                          select_best, sweep_checkpoints, write_pseudo_labels)
from mmexact.evaluation import ThresholdSweep  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Sweep CAM thresholds over stage-1 checkpoints and '
        'write pseudo labels')
    parser.add_argument('config', help='stage-1 config file')
    parser.add_argument('checkpoints', nargs='+', help='checkpoint file(s)')
    parser.add_argument(
        '--out-dir', required=True, help='where PNGs and the sweep go')
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
        '--device',
        default=None,
        help='torch device (default: the local GPU if any, else cpu)')
    parser.add_argument(
        '--cache-dir',
        help='CAM cache folder (default: OUT_DIR/cam_cache)')
    parser.add_argument(
        '--no-cache', action='store_true', help='do not cache the CAMs')
    parser.add_argument(
        '--amp',
        choices=['bf16', 'fp16'],
        help='run the network under autocast (the clue maths and CAMs stay '
        'float32); bf16 on CPUs with AVX-512 BF16 / AMX and recent GPUs')
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
    return parser.parse_args(argv)


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
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    thresholds = ThresholdSweep.arange(*args.thresholds)
    if not thresholds:
        raise SystemExit('--thresholds gives no threshold')
    rank, world = init_distributed(args.launcher)
    device = args.device
    if device is None:
        device = f'cuda:{int(os.environ.get("LOCAL_RANK", 0))}' \
            if torch.cuda.is_available() else 'cpu'

    def say(text: str) -> None:
        if rank == 0:
            print(text, flush=True)

    model = build_cam_model(cfg, device=device)
    loader = build_cam_dataloader(cfg, args.split, args.batch_size,
                                  args.num_workers)
    say(f'{len(loader.dataset)} windows ({args.split} split), '
        f'{len(thresholds)} thresholds, {len(args.checkpoints)} '
        f'checkpoint(s), {world} process(es)')
    cache_dirs = None
    if not args.no_cache:
        root = args.cache_dir or osp.join(args.out_dir, 'cam_cache')
        # the key covers the weights, the model config (and autocast), the
        # split and its windows
        key_cfg = dict(cfg.model.to_dict(), amp=args.amp)
        cache_dirs = [
            checkpoint_cache_dir(key_cfg, c, loader, args.split, root)
            for c in args.checkpoints
        ]
    amp_dtype = dict(bf16=torch.bfloat16, fp16=torch.float16).get(args.amp)
    results = sweep_checkpoints(model, args.checkpoints, loader, thresholds,
                                cache_dirs=cache_dirs, amp_dtype=amp_dtype)
    if any(r['cached'] for r in results):
        say('CAMs read from the cache for: ' + ', '.join(
            osp.basename(r['checkpoint']) for r in results if r['cached']))
    selection = select_best(results, args.select)
    other = select_best(results, 'miou' if args.select == 'oa' else 'oa')
    say(format_table(results, selection, other))
    say(f'* selected by {args.select}: {selection["checkpoint"]} '
        f'theta={selection["threshold"]:.4g} '
        f'(mIoU {100 * selection["mIoU"]:.2f}, '
        f'OA {100 * selection["OA"]:.2f})')
    say(f'+ best by {other["criterion"]}: {other["checkpoint"]} '
        f'theta={other["threshold"]:.4g} '
        f'(mIoU {100 * other["mIoU"]:.2f}, OA {100 * other["OA"]:.2f})')
    dataset = loader.dataset
    classes = getattr(dataset, 'metainfo', {}).get('classes')
    if rank == 0:
        paths = dump_sweep(
            results,
            args.out_dir,
            selection,
            class_names=classes,
            meta=dict(
                config=args.config,
                split=args.split,
                checkpoints=list(args.checkpoints),
                num_windows=len(dataset),
                num_processes=world))
        say(f'sweep written to {paths["csv"]} and {paths["json"]}')
    chosen = cache_dirs[selection['checkpoint_index']] if cache_dirs \
        else None
    if chosen is None:
        load_cam_checkpoint(model, selection['checkpoint'])
    num = write_pseudo_labels(model, loader, selection['threshold'],
                              args.out_dir, cache_dir=chosen,
                              amp_dtype=amp_dtype)
    if world > 1:
        counts = torch.tensor([num])
        torch.distributed.all_reduce(counts)
        num = int(counts)
    say(f'{num} pseudo labels written to {args.out_dir}')
    return selection


if __name__ == '__main__':
    from mmexact.utils import keep_freed_memory
    keep_freed_memory()  # as MallocTuningHook does in training
    main()
    cleanup_distributed(exit_process=True)
