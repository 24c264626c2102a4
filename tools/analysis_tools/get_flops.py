# Copyright (c) mmexact contributors. All rights reserved.
"""FLOPs and parameters of a SITS segmentor, counted by mmengine.

The SITS counterpart of mmseg's ``tools/analysis_tools/get_flops.py``: the
model of a config runs (``mode='tensor'``, no gradient) on one random
packed sample (1, T, C + 1, H, W) with valid days of year, and mmengine's
``FlopAnalyzer`` / ``ActivationAnalyzer`` / ``parameter_count`` count it.
mmengine has no rule for ``scaled_dot_product_attention``; this tool adds
one (``B·heads·L·S·(E + Ev)``: the two matrix products), so attention is
counted. As everywhere in mmengine (fvcore's convention) one fused
multiply-add counts as one FLOP, and element-wise operations are not
counted.

Example::

    python tools/analysis_tools/get_flops.py \\
        configs/_base_/models/tsvit_seg.py --shape 60 24 24
"""
import argparse
import os.path as osp
import sys
from math import prod
from typing import Any, List, Optional, Sequence

sys.path.insert(
    0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import mmexact  # noqa: E402,F401  (registers components)
import torch  # noqa: E402
from mmengine.analysis import (ActivationAnalyzer, FlopAnalyzer,  # noqa
                               parameter_count)
from mmengine.analysis.jit_handles import get_shape  # noqa: E402
from mmengine.analysis.print_helper import (_format_size,  # noqa: E402
                                            complexity_stats_table)
from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402

from mmseg.registry import MODELS  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='FLOPs and parameters of a SITS segmentor')
    parser.add_argument('config', help='config file path')
    parser.add_argument(
        '--shape',
        type=int,
        nargs=3,
        metavar=('T', 'H', 'W'),
        default=None,
        help='frames and window size (default: the test pipeline\'s '
        'max_seq_len, else 60, and the backbone\'s img_size, else 24)')
    parser.add_argument(
        '--table', action='store_true', help='print the per-module table')
    parser.add_argument(
        '--max-depth', type=int, default=3, help='depth of the table')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, key=value')
    return parser.parse_args(argv)


def sdpa_flop_jit(inputs: List[Any], outputs: List[Any]) -> int:
    """FLOPs of ``scaled_dot_product_attention``: q·kᵀ and attn·v.

    q (..., L, E), k (..., S, E), v (..., S, Ev) -> ``prod(...)·L·S·(E +
    Ev)`` multiply-adds (softmax and scaling are element-wise, uncounted).
    """
    q, k, v = (get_shape(x) for x in inputs[:3])
    *batch, length, e = q
    s, ev = k[-2], v[-1]
    return prod(batch) * length * s * (e + ev)


def default_shape(cfg: Config) -> Sequence[int]:
    """(T, H, W) from the test pipeline and the backbone of ``cfg``."""
    frames = 60
    pipeline = cfg.get('test_dataloader', {}).get('dataset',
                                                  {}).get('pipeline', [])
    for t in pipeline:
        if t.get('type') == 'PadOrCutSequence':
            frames = t.get('max_seq_len', frames)
    size = cfg.model.get('backbone', {}).get('img_size', 24)
    h, w = (size, size) if isinstance(size, int) else size
    return frames, h, w


def sits_input(frames: int, h: int, w: int, bands: int) -> torch.Tensor:
    """Random packed sample (1, T, C + 1, H, W) with spread valid dates."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(1, frames, bands + 1, h, w, generator=g)
    doy = torch.linspace(1, 365, frames).round()
    x[:, :, -1] = doy[None, :, None, None]
    return x


def analyze(model: torch.nn.Module, inputs: torch.Tensor,
            max_depth: int = 3) -> dict:
    """Count FLOPs (mmengine, plus attention), activations and parameters.

    Returns:
        dict: ``flops`` (int), ``params`` (int), ``activations`` (int),
        ``by_operator`` (dict), ``unsupported`` (dict of uncounted
        operators and how often they occur) and ``table`` (str).
    """
    flops = FlopAnalyzer(model, (inputs, ))
    flops.set_op_handle('aten::scaled_dot_product_attention', sdpa_flop_jit)
    flops.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    acts = ActivationAnalyzer(model, (inputs, ))
    acts.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    # without gradient the layers run their plain (traceable) composition,
    # not the fused autograd functions, which a trace cannot look into
    with torch.no_grad():
        result = dict(
            flops=flops.total(),
            activations=acts.total(),
            params=parameter_count(model)[''],
            by_operator=dict(flops.by_operator()),
            unsupported=dict(flops.unsupported_ops()),
            table=complexity_stats_table(
                flops, max_depth=max_depth, activations=acts,
                show_param_shapes=False))
    return result


def main(argv: Optional[List[str]] = None) -> dict:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    frames, h, w = args.shape or default_shape(cfg)
    bands = cfg.model.get('backbone', {}).get('in_channels', 10)
    model = MODELS.build(cfg.model).eval()
    inputs = sits_input(frames, h, w, bands)
    result = analyze(model, inputs, args.max_depth)
    line = '=' * 30
    print(f'{line}\nInput shape: {tuple(inputs.shape)} (B, T, C + 1, H, W)'
          f'\nFlops: {_format_size(result["flops"])}'
          f'\nParams: {_format_size(result["params"])} '
          f'({result["params"]:,})'
          f'\nActivations: {_format_size(result["activations"])}\n{line}')
    counted = ', '.join(f'{k} {_format_size(v)}'
                        for k, v in sorted(result['by_operator'].items()))
    print(f'counted: {counted}')
    if result['unsupported']:
        print('not counted (element-wise or unknown): ' + ', '.join(
            f'{k} x{v}' for k, v in sorted(result['unsupported'].items())))
    if args.table:
        print(result['table'])
    return result


if __name__ == '__main__':
    main()
