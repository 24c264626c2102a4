# Copyright (c) mmexact contributors. All rights reserved.
"""Cut raw PASTIS patches into PASTIS24 window pickles + fold lists.

Usage::

    python tools/dataset_converters/pastis_to_pastis24.py SRC DST \
        [--folds 1 2 3 4 5] [--window 24] [--label-channels 1]
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(
    __file__)))))

from mmexact.datasets.pastis24_converter import \
    convert_pastis_to_pastis24  # noqa: E402


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('src', help='raw PASTIS root (metadata.geojson, '
                        'DATA_S2/, ANNOTATIONS/)')
    parser.add_argument('dst', help='output PASTIS24 root')
    parser.add_argument('--folds', type=int, nargs='+',
                        default=[1, 2, 3, 4, 5])
    parser.add_argument('--window', type=int, default=24)
    parser.add_argument('--label-channels', type=int, default=1,
                        choices=[1, 3],
                        help='1: (H, W) labels (Exact); 3: all TARGET '
                        'channels (official TSViT release)')
    args = parser.parse_args(argv)
    count = [0]

    def progress(_):
        count[0] += 1
        if count[0] % 1000 == 0:
            print(f'{count[0]} windows written', flush=True)

    members = convert_pastis_to_pastis24(
        args.src, args.dst, args.folds, args.window, args.label_channels,
        progress)
    print(f'wrote {sum(len(v) for v in members.values())} windows to '
          f'{args.dst} (folds: '
          + ', '.join(f'{k}: {len(v)}' for k, v in sorted(members.items()))
          + ')')


if __name__ == '__main__':
    main()
