# Copyright (c) mmexact contributors. All rights reserved.
"""Throughput of tools/infer.py: km^2 per hour at 10 m, and the time for
one 110 x 110 km Sentinel-2 tile.

Writes a random scene of ``--size`` x ``--size`` 10 m pixels with
``--dates`` per-date int16 GeoTIFFs (EPSG:32631), runs the whole map
production on it (reading, the model on overlapping windows, stitching,
COG writing) with the config's network on random weights, and reports
windows/s, pixels/s, km^2/h and the extrapolation to a full tile
(10,980 x 10,980 pixels: its window count / the measured window rate).
The CPU time of the process is reported too (km^2 per CPU-hour): on a
machine shared with other jobs it tells what an idle machine would do
(with one thread, wall time ~ CPU time when nothing else runs).
Default: Exact's stage-2 network (TSViT d 128, depths 4 + 4, T 60, 24 x 24
windows, stride 16).

Example::

    python tools/analysis_tools/benchmark_inference.py --threads 2 --out bench.json
"""
import argparse
import datetime
import json
import os
import os.path as osp
import platform
import sys
import tempfile
import time

sys.path.insert(
    0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import mmexact  # noqa: E402,F401
import numpy as np  # noqa: E402
import torch  # noqa: E402

from mmexact.apis import SITSInferencer, init_model  # noqa: E402
from mmexact.geo import open_scene, write_crop_map  # noqa: E402
from mmexact.testing.geotiff import write_series  # noqa: E402
from mmexact.utils.malloc_tuning import keep_freed_memory  # noqa: E402

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEFAULT_CONFIG = osp.join(REPO, 'configs', 'exact',
                          'exact-stage2_tsvit_1xb48-100e_pastis24-24x24.py')
TILE_PX = 10980  # a Sentinel-2 tile: 109.8 km at 10 m
TILE_KM2 = 110. * 110.


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--config', default=DEFAULT_CONFIG)
    p.add_argument('--checkpoint', help='default: random weights')
    p.add_argument('--size', type=int, default=96,
                   help='scene side in pixels')
    p.add_argument('--dates', type=int, default=43,
                   help='acquisitions (PASTIS: 38-61; padded to the '
                   "model's max_seq_len)")
    p.add_argument('--stride', type=int, help='window step (default: the '
                   "tool's, 2/3 of the window)")
    p.add_argument('--batch-size', type=int, default=16)
    p.add_argument('--block-size', type=int, default=256)
    p.add_argument('--threads', type=int, default=None,
                   help='torch threads (default: torch\'s)')
    p.add_argument('--device', default='cpu')
    p.add_argument('--out', help='write the report as JSON')
    p.add_argument('--cfg-options', nargs='+', default=None,
                   help='key=value overrides of the config')
    return p.parse_args(argv)


def _options(items):
    from mmengine.config import DictAction
    if not items:
        return None
    ns = argparse.Namespace()
    DictAction(option_strings=[], dest='o')(None, ns, items)
    return ns.o


def main(argv=None) -> dict:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = init_model(args.config, args.checkpoint, args.device,
                       _options(args.cfg_options))
    inf = SITSInferencer(model, batch_size=args.batch_size,
                         stride=args.stride, block_size=args.block_size)
    t = args.dates if inf.max_seq_len is None else min(args.dates,
                                                        inf.max_seq_len)
    rng = np.random.default_rng(0)
    start = datetime.date(2018, 9, 1)
    dates = [start + datetime.timedelta(days=int(d))
             for d in np.linspace(0, 400, t)]
    with tempfile.TemporaryDirectory() as tmp:
        img = rng.integers(200, 5000, (t, inf.in_channels, args.size,
                                       args.size)).astype(np.int16)
        write_series(osp.join(tmp, 's2'), img, dates)
        del img
        # warm-up: one batch (allocations, kernel selection)
        x = torch.zeros(args.batch_size, inf.max_seq_len or t,
                        inf.in_channels + 1, *inf.window)
        x[:, :, -1] = 1
        inf.forward(x)
        cpu0 = time.process_time()
        with open_scene(osp.join(tmp, 's2'), inf.bands,
                        max_seq_len=inf.max_seq_len) as scene:
            rep = write_crop_map(inf, scene, osp.join(tmp, 'out'),
                                 progress=False)
        cpu = time.process_time() - cpu0
    tp = rep['throughput']
    windows = tp['windows']
    win_rate = windows / tp['seconds']
    tile_windows = inf.num_windows(TILE_PX, TILE_PX)
    tile_hours = tile_windows / win_rate / 3600
    params = sum(p.numel() for p in model.parameters())
    report = dict(
        config=osp.relpath(args.config, REPO) if args.config.startswith(
            REPO) else args.config,
        params=params,
        device=args.device,
        threads=torch.get_num_threads(),
        scene_px=args.size,
        dates=t,
        max_seq_len=inf.max_seq_len,
        window=list(inf.window),
        stride=list(inf.stride),
        batch_size=args.batch_size,
        windows=windows,
        seconds=tp['seconds'],
        windows_per_s=round(win_rate, 3),
        pixels_per_s=tp['pixels_per_s'],
        km2_per_hour=tp['km2_per_hour'],
        tile_windows=tile_windows,
        tile_hours=round(tile_hours, 2),
        tile_hours_by_area=round(TILE_KM2 / tp['km2_per_hour'], 2),
        cpu_seconds=round(cpu, 3),
        km2_per_cpu_hour=round(tp['km2'] / cpu * 3600, 2),
        tile_cpu_hours=round(tile_windows / (windows / cpu) / 3600, 2),
        peak_rss_mib=tp['peak_rss_mib'],
        load_average=[round(v, 2) for v in os.getloadavg()],
        date=time.strftime('%Y-%m-%d'),
        machine=f'{platform.machine()}, {os.cpu_count()} CPUs, '
        f'{platform.processor() or platform.machine()}')
    print(f"| {report['config']} ({params:,} parameters), {args.device}, "
          f"{report['threads']} threads, batch {args.batch_size} | |")
    print('|---|---|')
    print(f"| windows {inf.window[0]} x {inf.window[1]}, stride "
          f"{inf.stride[0]}, T {report['max_seq_len']} | "
          f"{report['windows_per_s']:.2f} windows/s |")
    print(f"| pixels at 10 m | {report['pixels_per_s']:,.0f} px/s |")
    print(f"| area | {report['km2_per_hour']:,.1f} km2/h |")
    print(f"| one 110 x 110 km tile ({tile_windows:,} windows) | "
          f"{report['tile_hours']:.1f} h |")
    print(f"| CPU time (all threads) | {report['km2_per_cpu_hour']:,.1f} "
          f"km2 per CPU-hour, {report['tile_cpu_hours']:.1f} CPU-hours "
          'per tile |')
    print(f"| peak RSS | {report['peak_rss_mib']:.0f} MiB |")
    print(f"{report['date']}, {report['machine']}, load average "
          f"{report['load_average']}")
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(report, f, indent=1)
    return report


if __name__ == '__main__':
    keep_freed_memory()
    main()
