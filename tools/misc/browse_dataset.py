# Copyright (c) mmexact contributors. All rights reserved.
"""Browse the windows of a SITS dataset through the config's visualizer.

The SITS counterpart of mmseg's ``tools/misc/browse_dataset.py``:
every sample of a split goes through its pipeline (training augmentations
included for ``--split train``) and is drawn by
:class:`~mmexact.visualization.SITSLocalVisualizer` — the RGB composite of
each date in ``--frames`` (default: the clearest one), the labels over the
first of them, and with ``--profile-pixel`` the time series of a pixel.
The image ``<sample_id>`` goes to every backend of the config's visualizer
under ``--output-dir`` (Local: ``<output-dir>/vis_data/vis_image/``);
``--show`` also displays it.

Example::

    python tools/misc/browse_dataset.py \\
        configs/tsvit/tsvit_1xb48-100e_pastis24-24x24.py --output-dir browse \\
        --frames 5 20 40 --profile-pixel 12 12 --max-samples 20
"""
import argparse
import os.path as osp
import sys
from typing import List, Optional

sys.path.insert(
    0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import mmexact  # noqa: E402,F401  (registers components)
from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from mmengine.utils import ProgressBar  # noqa: E402

from mmexact.visualization import (build_sits_visualizer,  # noqa: E402
                                   require_display)
from mmseg.registry import DATASETS  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Browse a SITS dataset')
    parser.add_argument('config', help='config file path')
    parser.add_argument(
        '--output-dir', required=True, help='root of the visualizer backends')
    parser.add_argument(
        '--split', choices=['train', 'val', 'test'], default='train')
    parser.add_argument(
        '--frames',
        type=int,
        nargs='+',
        default=None,
        help='dates shown as RGB, one panel each (default: the clearest)')
    parser.add_argument(
        '--profile-pixel',
        type=int,
        nargs=2,
        default=None,
        metavar=('ROW', 'COL'),
        help='plot the time series of this pixel')
    parser.add_argument(
        '--max-samples', type=int, default=None, help='only the first N')
    parser.add_argument(
        '--show', action='store_true', help='also display every window')
    parser.add_argument(
        '--show-interval',
        type=float,
        default=2,
        help='seconds each displayed window stays')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, key=value')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    if args.show:
        require_display('--show')
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    dataset = DATASETS.build(cfg[f'{args.split}_dataloader'].dataset)
    visualizer = build_sits_visualizer(cfg, args.output_dir, 'browse')
    visualizer.dataset_meta = dataset.metainfo
    count = len(dataset) if args.max_samples is None else min(
        args.max_samples, len(dataset))
    progress = ProgressBar(count)
    for i in range(count):
        item = dataset[i]
        sample = item['data_samples']
        visualizer.add_datasample(
            sample.metainfo.get('sample_id', str(i)),
            item['inputs'],
            sample,
            draw_pred=False,
            show=args.show,
            wait_time=args.show_interval,
            frame=args.frames,
            profile_pixel=args.profile_pixel)
        progress.update()
    visualizer.close()
    print(f'\n{count} windows drawn to {args.output_dir}')
    return count


if __name__ == '__main__':
    main()
