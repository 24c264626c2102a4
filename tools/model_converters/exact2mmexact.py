# Copyright (c) mmexact contributors. All rights reserved.
"""Convert a checkpoint of the official Exact classifier for mmexact.

Usage::

    python tools/model_converters/exact2mmexact.py SRC DST \
        [--emulate-date-truncation]

SRC is a ``state_dict`` of the official implementation's classification
network (``Exact_cls``, e.g. ``cls_log/15000.pth``); DST loads with
``load_from`` (or ``tools/test.py CONFIG DST``) into the model of
``configs/exact/exact_tsvit_pastis.py``. For outputs identical to the
reference, set ``model.backbone.mask_padded_frames=False`` and, if DST was
written with ``--emulate-date-truncation``, also
``model.backbone.emulate_date_truncation=True``.
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(
    0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import torch  # noqa: E402

from mmexact.exact import (  # noqa: E402
    convert_exact_reference_checkpoint, load_exact_reference_state_dict)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('src', help='state dict of the reference Exact_cls')
    parser.add_argument('dst', help='output mmexact checkpoint')
    parser.add_argument(
        '--emulate-date-truncation',
        action='store_true',
        help='convert for a backbone with emulate_date_truncation=True '
        '(its date index is the reference\'s truncated one); by default '
        'each day of year gets the reference column it used')
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    ref = load_exact_reference_state_dict(args.src)
    ckpt = convert_exact_reference_checkpoint(
        ref,
        emulate_date_truncation=args.emulate_date_truncation,
        source=osp.basename(args.src))
    out_dir = osp.dirname(osp.abspath(args.dst))
    os.makedirs(out_dir, exist_ok=True)
    torch.save(ckpt, args.dst)
    sd = ckpt['state_dict']
    values = sum(v.numel() for v in sd.values())
    print(f'converted {len(ref)} reference tensors into {len(sd)} mmexact '
          f'tensors ({values:,} values, emulate_date_truncation='
          f'{args.emulate_date_truncation}) -> {args.dst}')


if __name__ == '__main__':
    main()
