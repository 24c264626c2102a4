# Copyright (c) mmexact contributors. All rights reserved.
"""Train a crop mapper on your own region from weak labels and map it,
end to end, resumable stage by stage.

    python tools/run_own_region.py SCENE CELLS --out-dir DIR \\
        --nomenclature crops.csv --column crops \\
        [--parcels parcels.gpkg --crop-column code]

SCENE is anything ``tools/infer.py`` reads (folder / index / stack / STAC
JSON); CELLS are polygons or grid cells listing the crops that occur in
each (image-level labels; with ``--labels-kind parcels`` they are parcels
with a crop attribute instead, whose image labels follow the presence
rule). ``--parcels`` (optional) is pixel truth: the selection set of the
CAM threshold with ``--theta-rule pixel``, the fully supervised
comparison, and the evaluation of the held-out blocks.

Stages, each skipped when its outputs exist (an interrupted run simply
continues):

1. ``prepare``: ``tools/dataset_converters/scene_to_windows.py`` into
   ``DIR/data`` (windows, block split, statistics, class table, configs);
2. ``exact``: ``tools/exact/run_exact_pipeline.py`` (stage 1 from image
   labels, threshold, pseudo labels, stage 2, test on the held-out
   blocks) into ``DIR/exact``;
3. ``supervised``: a fully supervised TSViT on the training blocks'
   parcels (with ``--parcels`` and unless ``--no-supervised``) into
   ``DIR/supervised``;
4. ``map``: ``tools/infer.py`` with the stage-2 model on the whole scene
   (``DIR/map``), parcels labelled; the same with the fully supervised
   model (``DIR/map_supervised``);
5. ``report``: ``DIR/report.json`` and a table: pixel OA / mIoU on the
   held-out (test) blocks and parcel accuracy there, for Exact, the fully
   supervised model and the majority class of the test truth.
"""
import argparse
import json
import os
import os.path as osp
import sys
from typing import Dict, Optional

TOOLS = osp.dirname(osp.abspath(__file__))
sys.path.insert(0, osp.dirname(TOOLS))

from mmexact.utils import best_checkpoint, run_python  # noqa: E402

STAGES = ('prepare', 'exact', 'supervised', 'map', 'report')
CONFIG_DIR = osp.join(osp.dirname(TOOLS), 'configs', 'own_region')
#: the shipped configs, by role
CONFIGS = dict(
    stage1='exact_tsvit_1xb16-20e_own-region-24x24.py',
    stage2='exact-stage2_tsvit_1xb16-100e_own-region-24x24.py',
    supervised='tsvit_1xb16-100e_own-region-24x24.py')


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0].replace('\n', ' '),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('scene', help='the scene (as tools/infer.py reads it)')
    p.add_argument('labels', help='image-label cells (or parcels, with '
                   '--labels-kind parcels)')
    p.add_argument('--out-dir', required=True)
    p.add_argument('--nomenclature', required=True,
                   help='CSV value,class[,color] or YAML {value: class}')
    p.add_argument('--column', required=True,
                   help='crop list (cells) or crop attribute (parcels) of '
                   'LABELS')
    p.add_argument('--labels-kind', choices=['cells', 'parcels'],
                   default='cells')
    p.add_argument('--parcels', help='parcels with their true crop: '
                   'threshold selection set (--theta-rule pixel), fully '
                   'supervised comparison and evaluation')
    p.add_argument('--crop-column', help='true crop attribute of --parcels')
    p.add_argument('--theta-rule', choices=['fixed', 'image-labels', 'pixel'],
                   default='fixed', help='CAM threshold and checkpoint: '
                   'fixed (default): --bg-threshold on the last stage-1 '
                   'checkpoint; image-labels: presence F1 of the CAMs '
                   'against the image labels; pixel: the pixel truth of '
                   '--parcels in the training blocks (README, "Train on '
                   'your own region", compares them)')
    p.add_argument('--bg-threshold', type=float,
                   help='theta of --theta-rule fixed (default: the stage-1 '
                   "config's decode_head.bg_threshold, 0.35 in the shipped "
                   'ones)')
    for role, name in CONFIGS.items():
        p.add_argument(f'--{role}-config',
                       default=osp.join(CONFIG_DIR, name),
                       help=f'own-region config of the {role} network '
                       f'(default: configs/own_region/{name})')
    p.add_argument('--prepare-args', nargs=argparse.REMAINDER, default=[],
                   help='more options of scene_to_windows.py (last on the '
                   'line), e.g. --block-size 120 --bands ...')
    p.add_argument('--cfg-options', nargs='+', default=[],
                   help='key=value overrides of every training')
    p.add_argument('--stage1-cfg-options', nargs='+', default=[])
    p.add_argument('--stage2-cfg-options', nargs='+', default=[])
    p.add_argument('--supervised-cfg-options', nargs='+', default=[])
    p.add_argument('--no-supervised', action='store_true')
    p.add_argument('--stop-after', choices=STAGES)
    p.add_argument('--launcher', choices=['none', 'pytorch'], default='none',
                   help='pytorch: every training / test with torchrun on '
                   '--nproc-per-node processes')
    p.add_argument('--nproc-per-node', type=int, default=1)
    p.add_argument('--device', help='device of the map (default: cuda if '
                   'available)')
    args = p.parse_args(argv)
    if args.parcels and not args.crop_column:
        p.error('--parcels needs --crop-column')
    if args.theta_rule == 'pixel' and not args.parcels and \
            args.labels_kind == 'cells':
        p.error('--theta-rule pixel needs pixel truth (--parcels)')
    return args


def _prepare(args, data: str) -> None:
    if osp.isfile(osp.join(data, 'region.json')):
        print(f'prepare: {data} exists, reused', flush=True)
        return
    cmd = [osp.join(TOOLS, 'dataset_converters', 'scene_to_windows.py'),
           args.scene, data, '--nomenclature', args.nomenclature]
    if args.labels_kind == 'cells':
        cmd += ['--image-labels', args.labels, '--crops-column',
                args.column]
        if args.parcels:
            cmd += ['--parcels', args.parcels, '--crop-column',
                    args.crop_column]
    else:
        cmd += ['--parcels', args.labels, '--crop-column', args.column]
    run_python(cmd + list(args.prepare_args))


def _supervised(args, cfg: str, work: str) -> Dict:
    nproc = args.nproc_per_node if args.launcher == 'pytorch' else 1
    opts = args.cfg_options + args.supervised_cfg_options
    extra = ['--cfg-options'] + opts if opts else []
    if not osp.isfile(osp.join(work, 'DONE')):
        cmd = [osp.join(TOOLS, 'train.py'), cfg, '--work-dir', work]
        if osp.isfile(osp.join(work, 'last_checkpoint')):
            cmd.append('--resume')
        run_python(cmd + extra, nproc=nproc)
        with open(osp.join(work, 'DONE'), 'w') as f:
            f.write('done\n')
    out = osp.join(work, 'test_metrics.json')
    ckpt = best_checkpoint(work)
    if not osp.isfile(out):
        run_python([osp.join(TOOLS, 'test.py'), cfg, ckpt, '--work-dir',
                    work, '--metrics-out', out] + extra, nproc=nproc)
    with open(out) as f:
        res = json.load(f)
    return dict(checkpoint=osp.relpath(ckpt, args.out_dir),
                mIoU=res.get('mIoU'), aAcc=res.get('aAcc'))


def _map(args, cfg: str, ckpt: str, out: str, device: Optional[str]
         ) -> str:
    report = osp.join(out, 'crop_map.json')
    if not osp.isfile(report):
        cmd = [osp.join(TOOLS, 'infer.py'), cfg, ckpt, args.scene,
               '--out-dir', out, '--no-progress']
        truth = args.parcels or (args.labels if args.labels_kind ==
                                 'parcels' else None)
        if truth:
            cmd += ['--parcels', truth]
        if device:
            cmd += ['--device', device]
        run_python(cmd)
    return report


def _majority(region: dict) -> Dict:
    """Pixel OA / mIoU of predicting the test truth's most frequent class
    everywhere (the trivial baseline, at its best)."""
    pixels = region['counts']['test']['pixels']
    total = sum(pixels.values())
    if not total:
        return dict(name=None, aAcc=None, mIoU=None)
    name = max(pixels, key=pixels.get)
    share = pixels[name] / total
    present = sum(1 for v in pixels.values() if v)
    # IoU of the majority class = its share; every other class present: 0
    return dict(name=name, aAcc=100 * share, mIoU=100 * share / present,
                num_classes_present=present)


def _parcels(args, data: str, map_dir: str) -> Optional[Dict]:
    gpkg = osp.join(map_dir, 'crop_map_parcels.gpkg')
    column = args.crop_column if args.parcels else args.column
    if not osp.isfile(gpkg):
        return None
    import geopandas as gpd
    import rasterio
    from mmexact.geo.region_labels import read_nomenclature
    from mmexact.geo.training_set import split_parcel_accuracy
    with rasterio.open(osp.join(map_dir, 'crop_map.tif')) as ds:
        crs, transform = ds.crs, ds.transform
    gdf = gpd.read_file(gpkg).to_crs(crs)
    return split_parcel_accuracy(gdf, column,
                                 read_nomenclature(args.nomenclature), data,
                                 transform, 'test')


def _pseudo_quality(data: str, pseudo: str) -> Optional[Dict]:
    """Pseudo labels of the image-labelled training windows against the
    pixel truth those windows have (none: None): OA, mIoU over the classes
    present in the truth, and the class shares of both (percent)."""
    import csv

    import numpy as np
    from PIL import Image
    with open(osp.join(data, 'classes.json')) as f:
        names = json.load(f)['classes']
    k = len(names)
    conf = np.zeros((k, k), np.int64)
    with open(osp.join(data, 'splits', 'train.csv'), newline='') as f:
        rows = [r for r in csv.DictReader(f)
                if r['truth'] == '1' and r['image_labels'] == '1']
    for r in rows:
        png = osp.join(pseudo, r['sample_id'] + '.png')
        if not osp.isfile(png):
            continue
        truth = np.load(osp.join(data, r['path']))['labels'].astype(int)
        pred = np.asarray(Image.open(png)).astype(int)
        ok = (truth != 255) & (pred < k)
        conf += np.bincount(truth[ok] * k + pred[ok],
                            minlength=k * k).reshape(k, k)
    if not conf.sum():
        return None
    inter = np.diag(conf)
    union = conf.sum(0) + conf.sum(1) - inter
    present = conf.sum(1) > 0
    total = conf.sum()
    return dict(
        windows=len(rows), aAcc=100 * inter.sum() / total,
        mIoU=100 * float(np.mean(inter[present] / union[present])),
        pred_share=dict(zip(names, (100 * conf.sum(0) / total).round(2)
                            .tolist())),
        truth_share=dict(zip(names, (100 * conf.sum(1) / total).round(2)
                             .tolist())))


def _table(report: Dict) -> str:
    def f(v):
        return '-' if v is None else f'{v:.1f}'

    rows = ['| model (test blocks) | labels | OA | mIoU | parcel acc. |',
            '|---|---|---|---|---|']
    pq = report.get('pseudo_label_quality')
    if pq:
        rows.append(f"| (pseudo labels, training blocks) | image labels | "
                    f"{f(pq['aAcc'])} | {f(pq['mIoU'])} | - |")
    ex, sup, maj = (report.get(k) or {} for k in
                    ('exact', 'supervised', 'majority'))
    par = report.get('parcels_exact') or {}
    acc = par.get('accuracy')
    rows.append(f"| Exact stage 2 | image labels | {f(ex.get('aAcc'))} | "
                f"{f(ex.get('mIoU'))} | "
                f"{f(None if acc is None else 100 * acc)} |")
    if sup:
        acc = (report.get('parcels_supervised') or {}).get('accuracy')
        rows.append(f"| TSViT, fully supervised | parcels | "
                    f"{f(sup.get('aAcc'))} | {f(sup.get('mIoU'))} | "
                    f"{f(None if acc is None else 100 * acc)} |")
    mpa = par.get('majority_accuracy')
    rows.append(f"| majority class ({maj.get('name')}) | - | "
                f"{f(maj.get('aAcc'))} | {f(maj.get('mIoU'))} | "
                f"{f(None if mpa is None else 100 * mpa)} |")
    return '\n'.join(rows)


def main(argv=None) -> Dict:
    args = parse_args(argv)
    out = osp.abspath(args.out_dir)
    args.out_dir = out
    os.makedirs(out, exist_ok=True)
    data = osp.join(out, 'data')
    _prepare(args, data)
    if args.stop_after == 'prepare':
        return {}
    with open(osp.join(data, 'region.json')) as f:
        region = json.load(f)
    # the configs pointed at the prepared region (data_root, classes)
    from mmexact.utils.region_config import write_region_configs
    srcs = {role: getattr(args, f'{role}_config') for role in CONFIGS}
    written = write_region_configs(data, list(srcs.values()),
                                   out_dir=osp.join(out, 'configs'))
    cfgs = {role: written[src] for role, src in srcs.items()}
    report: Dict = dict(region=dict(counts=region['counts'],
                                    warnings=region['warnings']))
    launch = ['--launcher', args.launcher, '--nproc-per-node',
              str(args.nproc_per_node)]
    exact_cmd = [osp.join(TOOLS, 'exact', 'run_exact_pipeline.py'),
                 cfgs['stage1'], '--work-dir', osp.join(out, 'exact'),
                 '--stage2-config', cfgs['stage2'], '--theta-rule',
                 args.theta_rule] + launch
    if args.theta_rule == 'fixed':
        theta = args.bg_threshold
        if theta is None:
            from mmengine.config import Config
            theta = Config.fromfile(cfgs['stage1']).model.decode_head.get(
                'bg_threshold', 0.35)
        exact_cmd += ['--bg-threshold', str(theta)]
    for flag, opts in (('--cfg-options', args.cfg_options),
                       ('--stage1-cfg-options', args.stage1_cfg_options),
                       ('--stage2-cfg-options', args.stage2_cfg_options)):
        if opts:
            exact_cmd += [flag] + list(opts)
    run_python(exact_cmd)
    with open(osp.join(out, 'exact', 'summary.json')) as f:
        summary = json.load(f)
    report['exact'] = dict(
        mIoU=summary.get('stage2_test_mIoU'),
        aAcc=summary.get('stage2_test_aAcc'),
        pseudo_label=summary.get('pseudo_label'),
        checkpoint=osp.join('exact', summary['stage2_checkpoint']))
    report['pseudo_label_quality'] = _pseudo_quality(
        data, osp.join(out, 'exact', 'pseudo_labels'))
    report['majority'] = _majority(region)
    if args.stop_after == 'exact':
        return report
    has_truth = region['counts']['train']['windows_with_truth'] > 0
    if not args.no_supervised and has_truth:
        report['supervised'] = _supervised(
            args, cfgs['supervised'], osp.join(out, 'supervised'))
    if args.stop_after == 'supervised':
        return report
    map_dir = osp.join(out, 'map')
    _map(args, cfgs['stage2'], osp.join(out, report['exact']['checkpoint']),
         map_dir, args.device)
    report['map'] = osp.relpath(map_dir, out)
    report['parcels_exact'] = _parcels(args, data, map_dir)
    if report.get('supervised'):
        sup_dir = osp.join(out, 'map_supervised')
        _map(args, cfgs['supervised'],
             osp.join(out, report['supervised']['checkpoint']), sup_dir,
             args.device)
        report['parcels_supervised'] = _parcels(args, data, sup_dir)
    text = _table(report)
    print('\nOwn-region summary (held-out blocks)\n' + text, flush=True)
    with open(osp.join(out, 'report.md'), 'w') as f:
        f.write(text + '\n')
    with open(osp.join(out, 'report.json'), 'w') as f:
        json.dump(report, f, indent=2)
    return report


if __name__ == '__main__':
    main()
