# Copyright (c) mmexact contributors. All rights reserved.
"""Benchmark Exact's stage-1 model: training step, CB-CAMs, threshold sweep.

    python tools/analysis_tools/benchmark.py
        [--config configs/exact/exact_tsvit_pastis.py] [--device cpu|cuda]
        [--threads 2] [--batch-size 4] [--cam-batch-size 8]
        [--precisions fp32 bf16] [--out bench.json] [--memory-model]

Each workload runs in its own process so that peak memory (RSS on CPU,
``max_memory_allocated`` on GPU) is measured per workload. Random weights,
inputs shaped like PASTIS24 (T padded to 60, 43 valid frames), prototype
learning active (step > 4000). The training step and CB-CAM generation
run once per precision, side by side: ``fp32``, and ``bf16`` / ``fp16``
autocast (by default bf16 too where the CPU has AVX-512 BF16 or AMX, or on
a GPU). ``--smoke`` runs a tiny model for a few seconds (used by the test
suite). The workloads are in
:mod:`mmexact.testing.benchmark_workloads`.
"""
import argparse
import json
import os
import os.path as osp
import platform
import subprocess
import sys

HERE = osp.dirname(osp.abspath(__file__))
REPO = osp.dirname(osp.dirname(HERE))
sys.path.insert(0, REPO)
PRECISIONS = ('fp32', 'bf16', 'fp16')

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
    import mmexact  # noqa: F401
    import mmexact.testing.benchmark_workloads as bm
    device = torch.device(args.device)
    amp = dict(bf16=torch.bfloat16, fp16=torch.float16).get(args.precision)
    opts = dict(TINY) if args.smoke else {}
    if args.frames != 60:
        opts['model.backbone.img_size'] = 24
    res = dict(workload=args.only, precision=args.precision)
    if args.only == 'matmul':
        res.update(bm.bench_matmul(device, n=256 if args.smoke else 1024,
                                   dtype=amp or torch.float32))
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
               amp=amp))
        res['batch_size'] = bs
        res['frames'] = args.frames
    res.setdefault('peak_mem_mb', bm.peak_memory_mb(device))
    return res


def _smoke_all(args, precisions) -> dict:
    """Every workload in this one process (``--smoke``: figures are not
    meant to be compared, so no process per workload)."""
    import copy
    out = {}
    for p in precisions:
        for workload in ('matmul', 'train', 'cam'):
            a = copy.copy(args)
            a.only, a.precision = workload, p
            out[f'{workload}_{p}'] = _worker(a)
    a = copy.copy(args)
    a.only, a.precision = 'sweep', 'fp32'
    out['sweep'] = _worker(a)
    return out


def _spawn(args, workload: str, **over) -> dict:
    cmd = [
        sys.executable, osp.abspath(__file__), '--only', workload,
        '--config', args.config, '--device', args.device, '--threads',
        str(args.threads), '--batch-size',
        str(over.get('batch_size', args.batch_size)), '--cam-batch-size',
        str(over.get('cam_batch_size', args.cam_batch_size)), '--iters',
        str(args.iters), '--warmup', str(args.warmup), '--frames',
        str(over.get('frames', args.frames)), '--sweep-windows',
        str(args.sweep_windows), '--precision',
        over.get('precision', 'fp32')
    ] + [f'--{flag.replace("_", "-")}' for flag in
         ('smoke', 'glibc_defaults') if getattr(args, flag)]
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
    from mmexact.testing.benchmark_workloads import fit_memory_model
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
    parser.add_argument(
        '--precisions',
        nargs='+',
        choices=PRECISIONS,
        help='precisions of the training step and CB-CAM generation '
        '(default: fp32 and, where the hardware has fast bf16, bf16)')
    parser.add_argument('--precision', choices=PRECISIONS, default='fp32',
                        help=argparse.SUPPRESS)
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
    precisions = args.precisions or default_precisions(args.device)
    results = dict(
        config=osp.relpath(args.config, REPO), device=args.device,
        threads=args.threads, precisions=precisions, smoke=args.smoke,
        malloc_tuning=not args.glibc_defaults, machine=machine_name())
    if args.smoke:
        results.update(_smoke_all(args, precisions))
    for p in precisions:
        for workload in ('matmul', 'train', 'cam'):
            if not args.smoke:
                results[f'{workload}_{p}'] = _spawn(args, workload,
                                                    precision=p)
        results[f'train_{p}']['fraction_of_matmul_rate'] = (
            results[f'train_{p}']['gflops_per_s'] /
            results[f'matmul_{p}']['gflops_per_s'])
    # the fp32 figures also under their historical keys
    first = precisions[0]
    for workload in ('matmul', 'train', 'cam'):
        results[workload] = results[f'{workload}_{first}']
    if not args.smoke:
        results['sweep'] = _spawn(args, 'sweep')
    if args.memory_model:
        results['memory_model'] = _memory_model(args)
    _print_table(results)
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(results, f, indent=2)
    return results


def cpu_flags() -> set:
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('flags'):
                    return set(line.split(':', 1)[1].split())
    except OSError:
        pass
    return set()


def machine_name() -> str:
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def default_precisions(device: str) -> list:
    """fp32, plus bf16 on GPUs and on CPUs with AVX-512 BF16 or AMX."""
    if device.startswith('cuda'):
        return ['fp32', 'bf16']
    fast = {'avx512_bf16', 'amx_bf16'} & cpu_flags()
    return ['fp32', 'bf16'] if fast else ['fp32']


def _print_table(r: dict) -> None:
    ps = r['precisions']
    sw = r['sweep']
    print(f'| benchmark ({r["device"]}, {r["threads"]} threads) | '
          + ' | '.join(f'{p} throughput | {p} peak memory' for p in ps)
          + ' |')
    print('|---|' + '---|---|' * len(ps))

    def row(label, cells):
        print('| ' + label + ' | ' + ' | '.join(cells) + ' |')

    row('matmul rate', [f'{r[f"matmul_{p}"]["gflops_per_s"]:.1f} GFLOP/s | '
                        for p in ps])
    tr = r[f'train_{ps[0]}']
    row(f'training step (batch {tr["batch_size"]})', [
        f'{r[f"train_{p}"]["samples_per_s"]:.3f} samples/s | '
        f'{r[f"train_{p}"]["peak_mem_mb"]:.0f} MiB' for p in ps])
    row('  achieved FLOP rate', [
        f'{r[f"train_{p}"]["gflops_per_s"]:.1f} GFLOP/s '
        f'({100 * r[f"train_{p}"]["fraction_of_matmul_rate"]:.0f} % of '
        f'{p} matmul) | ' for p in ps])
    cam = r[f'cam_{ps[0]}']
    row(f'CB-CAM generation (batch {cam["batch_size"]})', [
        f'{r[f"cam_{p}"]["samples_per_s"]:.3f} samples/s | '
        f'{r[f"cam_{p}"]["peak_mem_mb"]:.0f} MiB' for p in ps])
    row('60-threshold sweep', [
        f'{sw["windows_per_s"]:.0f} windows/s | '
        f'{sw["peak_mem_mb"]:.0f} MiB'] + [' | '] * (len(ps) - 1))
    row('  reference per-window loop (scipy)', [
        f'{sw["reference_windows_per_s"]:.1f} windows/s '
        f'(x{sw["speedup_vs_reference"]:.0f}) | '] + [' | '] * (len(ps) - 1))
    for p in ps[1:]:
        for w in ('train', 'cam'):
            a, b = r[f'{w}_{ps[0]}'], r[f'{w}_{p}']
            print(f'{p} / {ps[0]} {w}: x{b["samples_per_s"] / a["samples_per_s"]:.2f} '
                  f'throughput, x{b["peak_mem_mb"] / a["peak_mem_mb"]:.2f} '
                  'peak memory')
    print(f'machine: {r["machine"]}')
    if 'memory_model' in r:
        for w, fit in r['memory_model']['fit'].items():
            print(f'memory model {w}: {fit["base_mb"]:.0f} MiB + batch x '
                  f'({fit["mb_per_sample"]:.1f} + '
                  f'{fit["mb_per_sample_frame"]:.2f} x frames) MiB '
                  f'(max residual {fit["max_abs_residual_mb"]:.0f} MiB)')


if __name__ == '__main__':
    main()
