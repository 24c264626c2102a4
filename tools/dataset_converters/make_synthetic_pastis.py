# Copyright (c) mmexact contributors. All rights reserved.
"""Generate a realistic synthetic PASTIS dataset (raw layout, + PASTIS24).

Usage::

    python tools/dataset_converters/make_synthetic_pastis.py OUT \
        [--num-patches 20] [--size 128] [--seed 0] [--pastis24] \
        [--workers 1] [--stats]

See :mod:`mmexact.testing.synthetic` for what the data model covers.
"""
import argparse
import os.path as osp
import sys
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(
    __file__)))))

from mmexact.datasets.pastis_meta import PASTIS_CLASSES  # noqa: E402
from mmexact.testing.synthetic import (  # noqa: E402
    SyntheticPASTISConfig, dataset_label_statistics, make_synthetic_pastis)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('out', help='output root (raw PASTIS layout)')
    parser.add_argument('--num-patches', type=int, default=20)
    parser.add_argument('--size', type=int, default=128,
                        help='patch side in pixels (PASTIS: 128)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--min-dates', type=int, default=33)
    parser.add_argument('--max-dates', type=int, default=61)
    parser.add_argument('--pastis24', action='store_true',
                        help='also write the PASTIS24 window layout')
    parser.add_argument('--pastis24-dir', default=None,
                        help='where to write it (default: OUT/pastis24)')
    parser.add_argument('--workers', type=int, default=1,
                        help='processes (the output does not depend on it)')
    parser.add_argument('--crop-classes', type=int, nargs='+',
                        help='restrict crops to these classes (1..18)')
    parser.add_argument('--cloud-rate', type=float, default=None,
                        help='probability that a frame has clouds')
    parser.add_argument('--stats', action='store_true',
                        help='print class statistics over 24x24 windows')
    return parser.parse_args(argv)


def print_statistics(root: str) -> dict:
    """Print pixel and image-level class frequencies; return them."""
    stats = dataset_label_statistics(root)
    names = list(PASTIS_CLASSES) + ['Void label']
    print(f'{stats["num_windows"]} windows of 24x24')
    print(f'{"class":<32}{"pixels %":>9}{"windows %":>11}')
    for c, name in enumerate(names):
        img = (f'{100 * stats["image_label_freq"][c - 1]:>11.1f}'
               if 1 <= c <= 18 else f'{"-":>11}')
        print(f'{c:>2} {name:<29}{100 * stats["pixel_freq"][c]:>9.2f}{img}')
    return stats


def main(argv=None) -> str:
    args = parse_args(argv)
    cfg = SyntheticPASTISConfig(
        num_patches=args.num_patches,
        size=args.size,
        seed=args.seed,
        seq_len=(args.min_dates, args.max_dates),
        crop_classes=args.crop_classes,
        num_workers=args.workers,
        **({} if args.cloud_rate is None else
           dict(cloud_rate=args.cloud_rate)))
    start = time.time()
    make_synthetic_pastis(
        args.out,
        cfg,
        pastis24=args.pastis24,
        pastis24_root=args.pastis24_dir)
    print(f'wrote {args.num_patches} patches of {args.size}x{args.size} to '
          f'{args.out} in {time.time() - start:.1f} s')
    if args.stats:
        print_statistics(args.out)
    return args.out


if __name__ == '__main__':
    main()
