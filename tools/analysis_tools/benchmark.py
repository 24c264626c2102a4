# Copyright (c) mmexact contributors. All rights reserved.
"""Benchmark Exact's stage-1 model: training step, CB-CAMs, threshold sweep.

    python tools/benchmark.py [--config configs/exact/exact_tsvit_pastis.py]
        [--device cpu|cuda] [--threads 2] [--batch-size 4]
        [--cam-batch-size 8] [--amp] [--out bench.json] [--memory-model]

Each workload runs in its own process so that peak memory (RSS on CPU,
``max_memory_allocated`` on GPU) is measured per workload. Random weights,
inputs shaped like PASTIS24 (T padded to 60, 43 valid frames), prototype
learning active (iteration > 4000). ``--smoke`` runs a tiny model for a
few seconds (used by the test suite).
"""
import argparse
import json
import os
import os.path as osp
import platform
import subprocess
import sys

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)

TINY = {
    'model.backbone.embed_dims': 16,
    'model.backbone.temporal_depth': 1,
    'model.backbone.spatial_depth': 1,
    'model.backbone.num_heads': 2,
    'model.backbone.head_dims': 8,
    'model.backbone.ffn_dims': 32,
    'model.decode_head.in_channels': 16,
}


def _worker(args) -> dict:
    """Run one workload in this process and return its figures."""
    import torch
    if not args.glibc_defaults:
        from mmexact.utils import keep_freed_memory
        keep_freed_memory()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    from mmexact.apis import benchmark as bm
    device = torch.device(args.device)
    opts = dict(TINY) if args.smoke else {}
    if args.frames != 60:
        opts['model.backbone.img_size'] = 24
    res = dict(workload=args.only)
    if args.only == 'matmul':
        res.update(bm.bench_matmul(device, n=256 if args.smoke else 1024))
    elif args.only == 'sweep':
        res.update(
            bm.bench_threshold_sweep(
                64 if args.smoke else args.sweep_windows, device))
        ref = bm.bench_reference_sweep(8 if args.smoke else 64)
        res['reference_windows_per_s'] = ref['windows_per_s']
        res['speedup_vs_reference'] = (res['windows_per_s'] /
                                       ref['windows_per_s'])
    else:
        model = bm.build_benchmark_model(args.config, device, opts)
        bs = args.batch_size if args.only == 'train' else args.cam_batch_size
        batch = bm.synthetic_batch(
            bs, num_frames=args.frames,
            valid_frames=min(43, args.frames))
        fn = bm.bench_train_step if args.only == 'train' \
            else bm.bench_cam_generation
        res.update(
            fn(model, batch, device, warmup=args.warmup, iters=args.iters,
               amp=args.amp))
        res['batch_size'] = bs
        res['frames'] = args.frames
    res.setdefault('peak_mem_mb', bm.peak_memory_mb(device))
    return res


def _spawn(args, workload: str, **over) -> dict:
    cmd = [
        sys.executable, osp.abspath(__file__), '--only', workload,
        '--config', args.config, '--device', args.device, '--threads',
        str(args.threads), '--batch-size',
        str(over.get('batch_size', args.batch_size)), '--cam-batch-size',
        str(over.get('cam_batch_size', args.cam_batch_size)), '--iters',
        str(args.iters), '--warmup', str(args.warmup), '--frames',
        str(over.get('frames', args.frames)), '--sweep-windows',
        str(args.sweep_windows)
    ] + [f'--{flag.replace("_", "-")}' for flag in
         ('amp', 'smoke', 'glibc_defaults') if getattr(args, flag)]
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads),
               MKL_NUM_THREADS=str(args.threads))
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise RuntimeError(f'{workload} failed:\n{out.stderr[-3000:]}')
    return json.loads(out.stdout.strip().splitlines()[-1])


def _memory_model(args) -> dict:
    """Peak memory at 5 (B, T) points, least-squares fit of
    ``base + B * (per_sample + per_sample_frame * T)``."""
    points = []
    for workload, key in (('train', 'batch_size'),
                          ('cam', 'cam_batch_size')):
        for b, t in ((1, 60), (2, 60), (4, 60), (2, 30), (2, 45)):
            if args.smoke and b > 2:
                continue
            r = _spawn(args, workload, **{key: b, 'frames': t})
            points.append((workload, b, t, r['peak_mem_mb']))
    from mmexact.apis.benchmark import fit_memory_model
    fits = {
        w: fit_memory_model([(b, t, m) for w2, b, t, m in points if w2 == w])
        for w in ('train', 'cam')
    }
    return dict(points=[dict(workload=w, batch=b, frames=t, peak_mem_mb=m)
                        for w, b, t, m in points], fit=fits)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--config',
                        default=osp.join(REPO, 'configs', 'exact',
                                         'exact_tsvit_pastis.py'))
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--batch-size', type=int, default=4)
    parser.add_argument('--cam-batch-size', type=int, default=8)
    parser.add_argument('--frames', type=int, default=60)
    parser.add_argument('--iters', type=int, default=5)
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument('--sweep-windows', type=int, default=2048)
    parser.add_argument('--amp', action='store_true',
                        help='bf16 autocast (GPU; slow on most CPUs)')
    parser.add_argument('--memory-model', action='store_true')
    parser.add_argument(
        '--glibc-defaults',
        action='store_true',
        help='do not let malloc keep freed memory (MallocTuningHook)')
    parser.add_argument('--smoke', action='store_true')
    parser.add_argument('--out', help='write the results as JSON')
    parser.add_argument('--only', choices=['train', 'cam', 'sweep',
                                           'matmul'], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.smoke:
        args.batch_size = args.cam_batch_size = 2
        args.iters, args.warmup = 1, 0
    if args.only:
        print(json.dumps(_worker(args)))
        return {}
    results = dict(
        config=osp.relpath(args.config, REPO), device=args.device,
        threads=args.threads, amp=args.amp, smoke=args.smoke,
        malloc_tuning=not args.glibc_defaults,
        machine=platform.processor() or platform.machine())
    for workload in ('matmul', 'train', 'cam', 'sweep'):
        results[workload] = _spawn(args, workload)
    results['train']['fraction_of_matmul_rate'] = (
        results['train']['gflops_per_s'] /
        results['matmul']['gflops_per_s'])
    if args.memory_model:
        results['memory_model'] = _memory_model(args)
    _print_table(results)
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(results, f, indent=2)
    return results


def _print_table(r: dict) -> None:
    tr, cam, sw, mm = r['train'], r['cam'], r['sweep'], r['matmul']
    rows = [
        ('fp32 matmul rate', f'{mm["gflops_per_s"]:.1f} GFLOP/s', ''),
        (f'training step (batch {tr["batch_size"]})',
         f'{tr["samples_per_s"]:.3f} samples/s',
         f'{tr["peak_mem_mb"]:.0f} MiB'),
        ('  achieved FLOP rate',
         f'{tr["gflops_per_s"]:.1f} GFLOP/s '
         f'({100 * tr["fraction_of_matmul_rate"]:.0f} % of matmul)', ''),
        (f'CB-CAM generation (batch {cam["batch_size"]})',
         f'{cam["samples_per_s"]:.3f} samples/s',
         f'{cam["peak_mem_mb"]:.0f} MiB'),
        ('60-threshold sweep', f'{sw["windows_per_s"]:.0f} windows/s',
         f'{sw["peak_mem_mb"]:.0f} MiB'),
        ('  reference per-window loop (scipy)',
         f'{sw["reference_windows_per_s"]:.1f} windows/s '
         f'(x{sw["speedup_vs_reference"]:.0f})', ''),
    ]
    print(f'| benchmark ({r["device"]}, {r["threads"]} threads'
          f'{", AMP" if r["amp"] else ""}) | throughput | peak memory |')
    print('|---|---|---|')
    for row in rows:
        print('| ' + ' | '.join(row) + ' |')
    if 'memory_model' in r:
        for w, fit in r['memory_model']['fit'].items():
            print(f'memory model {w}: {fit["base_mb"]:.0f} MiB + batch x '
                  f'({fit["mb_per_sample"]:.1f} + '
                  f'{fit["mb_per_sample_frame"]:.2f} x frames) MiB '
                  f'(max residual {fit["max_abs_residual_mb"]:.0f} MiB)')


if __name__ == '__main__':
    main()
