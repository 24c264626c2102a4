# Copyright (c) mmexact contributors. All rights reserved.
"""`make demo-region`: train on your own region from image-level labels
only, on a synthetic georeferenced scene, and map it.

1. writes a synthetic Sentinel-2 scene (per-date GeoTIFFs in UTM 31N),
   its declared parcels (WGS 84) and a grid of cells that each list the
   crops occurring in them (image-level labels: no pixel truth), plus a
   nomenclature of the crop codes;
2. runs ``tools/run_own_region.py`` on it with the demo-region configs
   (``configs/own_region/*_demo-region-24x24.py``): windows split by
   spatial blocks, Exact stage 1 from the cells' labels, the CAM threshold
   without pixel truth (``--theta-rule fixed``: the reference's 0.35 on the
   last checkpoint), pseudo labels, stage 2, and, for comparison, a fully
   supervised TSViT trained on the training blocks' parcels;
3. prints the quality on the held-out (test) blocks: pixel OA / mIoU and
   parcel accuracy of the map, next to the fully supervised model and the
   majority class.

Every stage is skipped when its outputs exist. ``--mini`` is the
miniature of ``tests/test_tools/test_own_region_demo.py``.
"""
import argparse
import json
import os
import os.path as osp
import sys

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, REPO)

from mmexact.utils import run_python  # noqa: E402

CONFIGS = dict(
    stage1='exact_tsvit_1xb16-40e_demo-region-24x24.py',
    stage2='exact-stage2_tsvit_1xb16-40e_demo-region-24x24.py',
    supervised='tsvit_1xb16-40e_demo-region-24x24.py')
#: the demo scene: 384 x 384 px (3.84 km), 16 blocks of 96 px (4 x 4
#: windows), cells of one window
SCENE = dict(size=384, seed=5, block=96, cell=24, options=[])
#: the miniature: 240 x 240 px, 25 blocks of 48 px, four crops (meadow,
#: soft winter wheat, corn, winter rapeseed), 12-16 dates, 20 epochs;
#: stage 2 with 8-sample batches at 3x the learning rate (at 1e-3 it stays
#: on one class for the ~150 steps of the miniature)
MINI = dict(
    size=240, seed=5, block=48, cell=24, crop_classes=(1, 2, 3, 5),
    seq_len=(12, 16), max_seq_len=16,
    options=['train_cfg.max_epochs=20',
             'default_hooks.checkpoint.interval=10'],
    stage1_options=['model.decode_head.proto_start_iter=20'],
    stage2_options=['train_dataloader.batch_size=8',
                    'optim_wrapper.optimizer.lr=0.003'])


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--work-dir', default=osp.join(REPO, 'work_dirs',
                                                  'demo_region'))
    p.add_argument('--mini', action='store_true')
    p.add_argument('--theta-rule', default='fixed',
                   choices=['fixed', 'image-labels', 'pixel'],
                   help='of tools/run_own_region.py (default: fixed, the '
                   "config's 0.35; pixel uses the parcels of the training "
                   'blocks, which an image-label-only user lacks)')
    p.add_argument('--no-supervised', action='store_true',
                   help='skip the fully supervised comparison')
    p.add_argument('--seed', type=int, default=0,
                   help='randomness.seed of the trainings (default: 0)')
    return p.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    spec = MINI if args.mini else SCENE
    work = osp.abspath(args.work_dir)
    scene_dir = osp.join(work, 'scene')
    meta_file = osp.join(scene_dir, 'SCENE.json')
    from mmexact.testing.synthetic_region import write_region_labels
    from mmexact.testing.synthetic_scene import write_synthetic_scene
    if not osp.isfile(meta_file):
        meta = write_synthetic_scene(
            scene_dir, size=spec['size'], seed=spec['seed'],
            crop_classes=spec.get('crop_classes'),
            seq_len=spec.get('seq_len', (20, 28)))
    else:
        with open(meta_file) as f:
            meta = json.load(f)
    nomenclature, cells = write_region_labels(meta, cell=spec['cell'])
    cfg_dir = osp.join(REPO, 'configs', 'own_region')
    opts = [f'randomness.seed={args.seed}'] + spec['options']
    if spec.get('max_seq_len'):  # the same pipeline position in all three
        from mmexact.utils import pipeline_options
        opts += pipeline_options(osp.join(cfg_dir, CONFIGS['stage1']),
                                 'PadOrCutSequence',
                                 max_seq_len=spec['max_seq_len'])
    cmd = [osp.join(REPO, 'tools', 'run_own_region.py'), meta['image_dir'],
           cells, '--out-dir', osp.join(work, 'run'), '--nomenclature',
           nomenclature, '--column', 'crops', '--parcels', meta['parcels'],
           '--crop-column', 'true_class', '--theta-rule', args.theta_rule,
           '--cfg-options', *opts]
    for stage in ('stage1', 'stage2'):
        if spec.get(f'{stage}_options'):
            cmd += [f'--{stage}-cfg-options', *spec[f'{stage}_options']]
    if args.no_supervised:
        cmd.append('--no-supervised')
    for role, name in CONFIGS.items():
        cmd += [f'--{role}-config', osp.join(cfg_dir, name)]
    cmd += ['--prepare-args', '--block-size', str(spec['block']),
            '--outside', 'background']
    os.makedirs(work, exist_ok=True)
    run_python(cmd, cwd=REPO)
    with open(osp.join(work, 'run', 'report.json')) as f:
        return json.load(f)


if __name__ == '__main__':
    main()
