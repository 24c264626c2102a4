# Copyright (c) mmexact contributors. All rights reserved.
"""Draw the CAMs of a stage-1 checkpoint through the config's visualizer.

Every window is drawn by :class:`~mmexact.visualization.SITSLocalVisualizer`
as side-by-side panels: an RGB composite of one date, the ground truth and
the pseudo label at ``--bg-threshold`` over it, and the CAM heat map of
every class present in the window (a bar in the class colour on top),
optionally the temporal profile of one pixel. The image ``<sample_id>``
goes to every backend of the config's ``visualizer`` under ``--out-dir``
(the Local backend writes ``<out-dir>/vis_data/vis_image/<sample_id>_0.png``,
a TensorBoard backend an event file beside it).

Example::

    python tools/analysis_tools/visualize_cams.py configs/exact/exact_tsvit_pastis.py \\
        work_dirs/exact/iter_15000.pth --out-dir vis_cams --max-windows 50
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(
    0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import mmexact  # noqa: E402,F401  (registers components, checkpoint fix)
import torch  # noqa: E402
from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from mmengine.runner import Runner, load_checkpoint  # noqa: E402
from mmengine.structures import PixelData  # noqa: E402

from mmexact.visualization import (build_sits_visualizer,  # noqa: E402
                                   require_display)
from mmseg.registry import MODELS  # noqa: E402
from mmseg.structures import SegDataSample  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Visualise the CAMs of a stage-1 checkpoint')
    parser.add_argument('config', help='stage-1 config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out-dir', required=True, help='output directory')
    parser.add_argument(
        '--split', choices=['train', 'val', 'test'], default='test')
    parser.add_argument(
        '--frame',
        type=int,
        default=None,
        help='date index of the RGB composite (default: clearest valid one)')
    parser.add_argument(
        '--profile-pixel',
        type=int,
        nargs=2,
        default=None,
        metavar=('ROW', 'COL'),
        help='also plot the time series of this pixel')
    parser.add_argument(
        '--show', action='store_true', help='also display every window')
    parser.add_argument(
        '--bg-threshold',
        type=float,
        default=0.35,
        help='background threshold of the pseudo label')
    parser.add_argument(
        '--max-windows',
        type=int,
        default=None,
        help='only the first N windows of the split')
    parser.add_argument('--batch-size', type=int, default=16)
    parser.add_argument('--num-workers', type=int, default=None)
    parser.add_argument(
        '--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, key=value')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.show:
        require_display('--show')
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    model = MODELS.build(cfg.model)
    if not hasattr(model.decode_head, 'predict_cams'):
        raise SystemExit(f'{type(model.decode_head).__name__} has no '
                         'predict_cams(): use a stage-1 config')
    load_checkpoint(model, args.checkpoint, map_location='cpu', strict=True)
    model.to(args.device).eval()
    model.decode_head.bg_threshold = args.bg_threshold  # of the pseudo label
    split = cfg.get(f'{args.split}_dataloader')
    dataset = dict(split.dataset)
    if args.max_windows is not None:
        dataset['indices'] = args.max_windows
    loader = Runner.build_dataloader(dict(
        batch_size=args.batch_size,
        num_workers=split.get('num_workers', 0)
        if args.num_workers is None else args.num_workers,
        sampler=dict(type='DefaultSampler', shuffle=False),
        dataset=dataset))
    os.makedirs(args.out_dir, exist_ok=True)
    visualizer = build_sits_visualizer(cfg, args.out_dir, 'visualize_cams')
    visualizer.dataset_meta = loader.dataset.metainfo
    count = 0
    for batch in loader:
        with torch.no_grad():
            outputs = model.test_step(batch)
        for inputs, sample in zip(batch['inputs'], outputs):
            cams = sample.seg_logits.data[1:].cpu()  # channel 0: theta
            present = cams.flatten(1).amax(1) > 0
            if 'gt_cls_label' in sample:
                present |= sample.gt_cls_label.cpu() > 0
            drawn = SegDataSample(metainfo=dict(img_shape=cams.shape[-2:]))
            drawn.pred_sem_seg = PixelData(data=sample.pred_sem_seg.data.cpu())
            drawn.cams = PixelData(data=cams)
            if 'gt_sem_seg' in sample:
                drawn.gt_sem_seg = PixelData(
                    data=sample.gt_sem_seg.data.cpu())
            visualizer.add_datasample(
                str(sample.metainfo.get('sample_id', f'{count:06d}')),
                inputs,
                drawn,
                show=args.show,
                frame=args.frame,
                cam_classes=present.nonzero().flatten().tolist(),
                profile_pixel=args.profile_pixel)
            count += 1
    visualizer.close()
    print(f'{count} windows drawn to {args.out_dir}')
    return count


if __name__ == '__main__':
    from mmexact.utils import keep_freed_memory
    keep_freed_memory()  # as MallocTuningHook does in training
    main()
