# Copyright (c) mmexact contributors. All rights reserved.
"""`make demo`: Exact end to end on generated data, with two baselines.

1. generates the synthetic PASTIS demo data (raw layout) if missing;
2. runs the Exact pipeline (stage 1 -> CB-CAM evaluation -> pseudo labels
   -> stage 2 -> test) with tools/exact/run_exact_pipeline.py;
3. trains the vanilla-CAM baseline and scores its CAMs with the same
   threshold sweep;
4. trains the fully supervised TSViT and tests it;
5. writes CAM / pseudo-label / prediction images and prints one table;
6. ends in a map: a synthetic georeferenced scene larger than a PASTIS
   patch (per-date GeoTIFFs in UTM 31N, parcels in WGS 84) goes through
   tools/infer.py with the stage-2 model: crop-map GeoTIFF, quick-look PNG
   and parcel GeoPackage, scored against the scene's ground truth.

Every step is skipped when its outputs exist, so a second run only prints
the table. ``--mini`` runs a miniature (used by the tests), with configs
of its own (``configs/*/*_1xb8-20e_demo-mini-24x24.py``); ``--jobs 2``
runs the Exact pipeline and the two baselines side by side. The only
options the tools get point the configs at the data (:func:`data_options`).
"""
import argparse
import json
import os
import os.path as osp
import platform
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import Dict, List, Tuple

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOLS = osp.join(REPO, 'tools')
sys.path.insert(0, REPO)

from mmexact.testing.demo_data import (DEMO_DATA, DEMO_MINI,  # noqa: E402
                                       make_demo_data)
from mmexact.utils import data_root_options, run_python  # noqa: E402

CONFIGS = dict(
    exact=osp.join(REPO, 'configs', 'exact',
                   'exact_tsvit_1xb16-8e_demo-24x24.py'),
    cam=osp.join(REPO, 'configs', 'cam', 'cam_tsvit_1xb16-8e_demo-24x24.py'),
    full=osp.join(REPO, 'configs', 'tsvit', 'tsvit_1xb16-8e_demo-24x24.py'))
#: the miniature's configs (``--mini``); Exact's names its stage 2
#: (``stage2_config``)
MINI_CONFIGS = dict(
    exact=osp.join(REPO, 'configs', 'exact',
                   'exact_tsvit_1xb8-20e_demo-mini-24x24.py'),
    cam=osp.join(REPO, 'configs', 'cam',
                 'cam_tsvit_1xb8-20e_demo-mini-24x24.py'),
    full=osp.join(REPO, 'configs', 'tsvit',
                  'tsvit_1xb8-20e_demo-mini-24x24.py'))
# Demo data (DEMO_DATA) and the miniature (DEMO_MINI, ``--mini``,
# tests/test_tools/test_demo_mini.py; its configs MINI_CONFIGS): the demo's
# crops and networks on 24 patches of 48 x 48 pixels with 12-16 dates,
# 1 process x 8 samples; stage 1 (Exact and the vanilla CAM alike)
# 20 epochs = 160 iterations, Exact's prototypes from step 60, checkpoints
# after steps 120, 140, 160 (the schedule check passes); stage 2 and the
# fully supervised network 20 epochs with a one-layer temporal encoder.
# About 5 minutes on 2 CPU cores, 3 with ``--jobs 2`` (one thread per
# process).
# The map scene: 256 x 256 pixels (2.56 x 2.56 km, 4 PASTIS patches) of
# the demo's crops and calendar, in EPSG:32631.
MAP = dict(size=256, seed=11, crs='EPSG:32631', origin=(600000., 4850000.))
MINI_MAP = dict(size=64, seed=11, crs='EPSG:32631',
                origin=(600000., 4850000.))

#: per thread of ``--jobs``: the log file and environment of its children
_CHILD = threading.local()


def _run(args: List[str]) -> None:
    run_python(args, cwd=REPO, log=getattr(_CHILD, 'log', None),
               env=getattr(_CHILD, 'env', None), echo_root=REPO)


def _in_thread(fn, log: str, env: Dict):
    """Run ``fn`` with the children's output going to ``log``."""
    _CHILD.log, _CHILD.env = log, env
    try:
        return fn()
    finally:
        _CHILD.log = _CHILD.env = None


def _child_env(jobs: int) -> Dict:
    """Environment of the children of ``--jobs``: the cores shared out
    (one process per job), unless the caller set the thread count."""
    env = dict(os.environ)
    if 'OMP_NUM_THREADS' not in env:
        threads = str(max(1, (os.cpu_count() or 1) // jobs))
        env.update(OMP_NUM_THREADS=threads, MKL_NUM_THREADS=threads)
    return env


@lru_cache(maxsize=None)
def _data_options(config: str, data_root: str) -> Tuple[str, ...]:
    return tuple(data_root_options(config, data_root))


def data_options(config: str, data_root: str) -> List[str]:
    """``--cfg-options`` that point ``config`` at the data in ``data_root``
    (:func:`mmexact.utils.data_root_options`)."""
    return list(_data_options(osp.abspath(config), data_root))


def stage2_config(config: str) -> str:
    """The stage-2 config that an Exact config names (``stage2_config``)."""
    from mmengine.config import Config
    return osp.join(osp.dirname(config),
                    Config.fromfile(config)['stage2_config'])


def train_and_test(config: str, work: str, opts: List[str]) -> Dict:
    out = osp.join(work, 'test_metrics.json')
    if not osp.isfile(osp.join(work, 'DONE')):
        _run([osp.join(TOOLS, 'train.py'), config, '--work-dir', work,
              '--cfg-options'] + opts)
        open(osp.join(work, 'DONE'), 'w').close()
    ckpts = sorted(f for f in os.listdir(work) if f.endswith('.pth'))
    best = [f for f in ckpts if f.startswith('best_')] or [
        max((f for f in ckpts if f.startswith('iter_')),
            key=lambda f: int(f[5:-4]))
    ]
    if not osp.isfile(out):
        _run([osp.join(TOOLS, 'test.py'), config,
              osp.join(work, best[0]), '--work-dir', work, '--metrics-out',
              out, '--show-dir', osp.join(work, 'vis'), '--cfg-options'] +
             opts)
    with open(out) as f:
        return json.load(f)


def cam_sweep(config: str, work: str, opts: List[str]) -> Dict:
    """Best-theta CAM quality of the last checkpoint on the train folds."""
    out = osp.join(work, 'sweep')
    if not osp.isfile(osp.join(out, 'sweep.json')):
        last = max((f for f in os.listdir(work) if f.startswith('iter_')),
                   key=lambda f: int(f[5:-4]))
        _run([osp.join(TOOLS, 'exact', 'generate_pseudo_labels.py'), config,
              osp.join(work, last), '--out-dir', out, '--select', 'miou',
              '--cfg-options'] + opts)
    with open(osp.join(out, 'sweep.json')) as f:
        return json.load(f)['selection']


def _confusion_scores(pred, label, num_classes: int) -> Dict:
    """Pixel OA and mIoU (classes present in label or prediction)."""
    import numpy as np
    keep = (label != 255) & (pred != 255)
    cm = np.bincount(label[keep].astype(int) * num_classes + pred[keep],
                     minlength=num_classes**2).reshape(num_classes,
                                                       num_classes)
    inter = np.diag(cm).astype(float)
    union = cm.sum(0) + cm.sum(1) - inter
    present = union > 0
    return dict(oa=100 * inter.sum() / max(cm.sum(), 1),
                miou=100 * (inter[present] / union[present]).mean())


def demo_map(work: str, pipe: str, exact: Dict, stage2: str,
             opts: List[str], spec: dict, map_spec: dict) -> Dict:
    """Stage 6: map a synthetic georeferenced scene with tools/infer.py and
    the ``stage2`` config."""
    out = osp.join(work, 'map')
    result = osp.join(out, 'map_results.json')
    if osp.isfile(result):
        with open(result) as f:
            return json.load(f)
    import geopandas as gpd
    import rasterio

    from mmexact.testing.synthetic_scene import write_synthetic_scene
    scene = write_synthetic_scene(
        osp.join(work, 'map_scene'), size=map_spec['size'],
        seed=map_spec['seed'], crs=map_spec['crs'],
        origin=map_spec['origin'],
        seq_len=(spec['min_dates'], spec['max_dates']),
        crop_classes=spec['crop_classes'], parcels_crs='EPSG:4326')
    _run([osp.join(TOOLS, 'infer.py'), stage2,
          osp.join(pipe, exact['stage2_checkpoint']), scene['image_dir'],
          '--out-dir', out, '--parcels', scene['parcels'], '--no-progress',
          '--title', 'synthetic scene, Exact stage 2 (make demo)',
          '--cfg-options'] + opts)
    with open(osp.join(out, 'crop_map.json')) as f:
        report = json.load(f)
    with rasterio.open(osp.join(out, 'crop_map.tif')) as ds:
        pred = ds.read(1)
    with rasterio.open(scene['labels']) as ds:
        label = ds.read(1)
    parcels = gpd.read_file(osp.join(out, 'crop_map_parcels.gpkg'))
    ok = parcels['pred_class'].notna()
    res = dict(
        size_km=map_spec['size'] / 100,
        crs=map_spec['crs'],
        dates=len(scene['dates']),
        pixels=_confusion_scores(pred, label, 19),
        parcels=dict(total=len(parcels), labelled=int(ok.sum()),
                     correct=100 * float(
                         (parcels.loc[ok, 'pred_class'] ==
                          parcels.loc[ok, 'true_class']).mean())),
        km2_per_hour=report['throughput']['km2_per_hour'],
        outputs=dict(classes=osp.join(out, 'crop_map.tif'),
                     quicklook=osp.join(out, 'crop_map.png'),
                     parcels=osp.join(out, 'crop_map_parcels.gpkg')))
    res['pixels'] = {k: round(float(v), 2) for k, v in res['pixels'].items()}
    res['parcels']['correct'] = round(res['parcels']['correct'], 2)
    with open(result, 'w') as f:
        json.dump(res, f, indent=2)
    return res


def main(argv=None) -> Dict:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--work-dir', help='default: work_dirs/demo '
                        '(--mini: work_dirs/demo-mini)')
    parser.add_argument('--data-root', help='default: data/demo/'
                        'synthetic_pastis (--mini: ..._mini)')
    parser.add_argument('--mini', action='store_true',
                        help='a few-minute miniature (tests)')
    parser.add_argument(
        '--jobs', type=int, default=1, choices=(1, 2),
        help='2: run the Exact pipeline and the two baselines side by side, '
        'the cores shared out between them (OMP_NUM_THREADS = cores / 2 '
        'unless set); their output goes to log files in the work dir')
    args = parser.parse_args(argv)
    start = time.time()
    suffix = '-mini' if args.mini else ''
    work = osp.abspath(args.work_dir or osp.join(REPO, 'work_dirs',
                                                 'demo' + suffix))
    data_root = osp.abspath(args.data_root or osp.join(
        REPO, 'data', 'demo', 'synthetic_pastis' + suffix.replace('-', '_')))
    os.makedirs(work, exist_ok=True)
    make_demo_data(data_root, DEMO_MINI if args.mini else DEMO_DATA)
    configs = MINI_CONFIGS if args.mini else CONFIGS
    stage2 = stage2_config(configs['exact'])
    opts = {k: data_options(c, data_root) for k, c in configs.items()}
    opts['stage2'] = data_options(stage2, data_root)

    # 1. Exact: the whole pipeline, resumable
    pipe = osp.join(work, 'exact')
    vis = osp.join(work, 'cam_vis')

    def exact_chain():
        if not osp.isfile(osp.join(pipe, 'summary.json')):
            _run([osp.join(TOOLS, 'exact', 'run_exact_pipeline.py'),
                  configs['exact'],
                  '--work-dir', pipe, '--select', 'oa',
                  '--stage1-cfg-options'] + opts['exact'] +
                 ['--stage2-cfg-options'] + opts['stage2'])
        with open(osp.join(pipe, 'summary.json')) as f:
            exact = json.load(f)
        exact_cam = cam_sweep(configs['exact'], osp.join(pipe, 'stage1'),
                              opts['exact'])
        if not osp.isdir(vis):
            _run([osp.join(TOOLS, 'analysis_tools', 'visualize_cams.py'),
                  configs['exact'],
                  osp.join(pipe, exact['stage1_checkpoint']), '--out-dir',
                  vis, '--max-windows', '16', '--cfg-options'] +
                 opts['exact'])
        return exact, exact_cam

    # 2. vanilla CAM baseline; 3. fully supervised upper bound
    def baseline_chain():
        cam_work = osp.join(work, 'cam')
        if not osp.isfile(osp.join(cam_work, 'DONE')):
            _run([osp.join(TOOLS, 'train.py'), configs['cam'], '--work-dir',
                  cam_work, '--cfg-options'] + opts['cam'])
            open(osp.join(cam_work, 'DONE'), 'w').close()
        cam = cam_sweep(configs['cam'], cam_work, opts['cam'])
        full = train_and_test(configs['full'], osp.join(work, 'supervised'),
                              opts['full'])
        return cam, full

    if args.jobs > 1:  # the two chains side by side
        env = _child_env(args.jobs)
        with ThreadPoolExecutor(2) as pool:
            a = pool.submit(_in_thread, exact_chain,
                            osp.join(work, 'exact_chain.log'), env)
            b = pool.submit(_in_thread, baseline_chain,
                            osp.join(work, 'baselines_chain.log'), env)
            (exact, exact_cam), (cam, full) = a.result(), b.result()
    else:
        exact, exact_cam = exact_chain()
        cam, full = baseline_chain()

    # mIoU over the classes that occur (mmseg's convention, as in the test
    # rows); the demo data has 8 of the 18 crop classes
    rows = dict(
        exact_cam_miou=100 * exact_cam['mIoU_nan'],
        vanilla_cam_miou=100 * cam['mIoU_nan'],
        pseudo_label_miou=100 * exact['pseudo_label']['mIoU_nan'],
        pseudo_label_oa=100 * exact['pseudo_label']['OA'],
        stage2_miou=exact['stage2_test_mIoU'],
        supervised_miou=full['mIoU'])
    rows['ratio'] = rows['stage2_miou'] / max(rows['supervised_miou'], 1e-9)

    # 4. the stage-2 model maps a georeferenced scene
    crop_map = demo_map(work, pipe, exact, stage2, opts['stage2'],
                        DEMO_MINI if args.mini else DEMO_DATA,
                        MINI_MAP if args.mini else MAP)
    old = osp.join(work, 'demo_results.json')
    seconds = round(time.time() - start)
    if osp.isfile(old):  # keep the time of the run that did the work
        with open(old) as f:
            seconds = max(seconds, json.load(f).get('seconds', 0))
    report = dict(
        results=rows,
        seconds=seconds,
        date=time.strftime('%Y-%m-%d'),
        machine=f'{platform.machine()}, {os.cpu_count()} CPUs',
        # the Local vis backend writes under vis_data/vis_image
        images=dict(
            cams=osp.join(vis, 'vis_data', 'vis_image'),
            stage2=osp.join(pipe, 'stage2', 'vis', 'vis_data', 'vis_image'),
            supervised=osp.join(work, 'supervised', 'vis', 'vis_data',
                                'vis_image')),
        map=crop_map)
    with open(osp.join(work, 'demo_results.json'), 'w') as f:
        json.dump(report, f, indent=2)
    print_table(report)
    return report


def print_table(report: Dict) -> None:
    r = report['results']
    lines = [
        '| quantity (synthetic PASTIS demo) | value |',
        '|---|---|',
        f'| CAM mIoU, Exact CB-CAM (train folds, best θ) | '
        f'{r["exact_cam_miou"]:.1f} |',
        f'| CAM mIoU, vanilla CAM (same protocol) | '
        f'{r["vanilla_cam_miou"]:.1f} |',
        f'| pseudo-label mIoU / OA (θ chosen by OA) | '
        f'{r["pseudo_label_miou"]:.1f} / {r["pseudo_label_oa"]:.1f} |',
        f'| stage-2 mIoU on pseudo labels (test fold) | '
        f'{r["stage2_miou"]:.1f} |',
        f'| fully supervised mIoU (test fold) | {r["supervised_miou"]:.1f} |',
        f'| stage 2 / fully supervised | {100 * r["ratio"]:.0f} % |',
    ]
    m = report.get('map')
    if m:
        lines.append(
            f'| crop map, {m["size_km"]:g} x {m["size_km"]:g} km scene '
            f'({m["crs"]}): pixel OA / mIoU | {m["pixels"]["oa"]:.1f} / '
            f'{m["pixels"]["miou"]:.1f} |')
        lines.append(
            f'| crop map: parcels labelled correctly (majority vote) | '
            f'{m["parcels"]["correct"]:.1f} % of {m["parcels"]["labelled"]}'
            ' |')
    print('\n' + '\n'.join(lines))
    print(f'\n{report["date"]}, {report["machine"]}, '
          f'{report["seconds"]} s; images: {report["images"]["cams"]}')
    if m:
        print('map: ' + ', '.join(m['outputs'].values()))


if __name__ == '__main__':
    main()
