# Copyright (c) mmexact contributors. All rights reserved.
"""Pixel confusion matrix of predicted label maps against a split.

The SITS counterpart of mmseg's ``tools/analysis_tools/confusion_matrix.py``:
the predictions are the ``<sample_id>.png`` label maps that
``tools/test.py --out DIR`` writes, matched to the samples of the config's
split by name (not by file order). The matrix is counted with mmpretrain's
``ConfusionMatrix.calculate`` over the non-ignored pixels and drawn with
its ``ConfusionMatrix.plot`` (rows normalised to whole per cents of each
true class). Writes ``confusion_matrix.json`` (counts, classes) and
``confusion_matrix.png`` to ``save_dir``.

Example::

    python tools/test.py CONFIG CKPT --out preds/
    python tools/analysis_tools/confusion_matrix.py CONFIG preds/ cm/
"""
import argparse
import json
import os
import os.path as osp
import sys
from typing import List, Optional

sys.path.insert(
    0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import mmexact  # noqa: E402,F401  (registers components)
import numpy as np  # noqa: E402
import torch  # noqa: E402
from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from mmengine.utils import ProgressBar  # noqa: E402
from mmpretrain.evaluation import ConfusionMatrix  # noqa: E402
from PIL import Image  # noqa: E402

from mmseg.registry import DATASETS  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Confusion matrix of predicted label maps')
    parser.add_argument('config', help='config file path')
    parser.add_argument(
        'prediction_dir', help='<sample_id>.png label maps (test.py --out)')
    parser.add_argument('save_dir', help='where to write the results')
    parser.add_argument(
        '--split', choices=['train', 'val', 'test'], default='test')
    parser.add_argument(
        '--title', default='Normalized Confusion Matrix (%)')
    parser.add_argument('--cmap', default='viridis', help='colour map')
    parser.add_argument(
        '--include-values',
        action='store_true',
        help='write the per-cent values into the cells')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, key=value')
    return parser.parse_args(argv)


def read_prediction(path: str, shape) -> np.ndarray:
    """A (H, W) label PNG, checked against the ground-truth shape."""
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'{path}: no prediction for this sample; write the predictions '
            'of the same split with tools/test.py --out')
    pred = np.array(Image.open(path))
    if pred.shape != tuple(shape):
        raise ValueError(f'{path}: prediction has shape {pred.shape}, the '
                         f'ground truth {tuple(shape)}')
    return pred


def confusion_matrix(dataset, prediction_dir: str,
                     ignore_index: int = 255) -> np.ndarray:
    """(K, K) pixel counts, rows = ground truth, columns = prediction."""
    num_classes = len(dataset.metainfo['classes'])
    matrix = torch.zeros(num_classes, num_classes, dtype=torch.int64)
    progress = ProgressBar(len(dataset))
    for i in range(len(dataset)):
        sample = dataset[i]['data_samples']
        gt = sample.gt_sem_seg.data[0].numpy()
        name = sample.metainfo['sample_id']
        path = osp.join(prediction_dir, f'{name}.png')
        pred = read_prediction(path, gt.shape)
        valid = gt != ignore_index
        bad = np.unique(pred[valid][pred[valid] >= num_classes])
        if bad.size:
            raise ValueError(f'{path}: label values {bad.tolist()} outside '
                             f'0..{num_classes - 1}')
        matrix += ConfusionMatrix.calculate(
            torch.from_numpy(pred[valid].astype(np.int64)),
            torch.from_numpy(gt[valid].astype(np.int64)),
            num_classes=num_classes)
        progress.update()
    return matrix.numpy()


def main(argv: Optional[List[str]] = None) -> np.ndarray:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    dataset = DATASETS.build(cfg[f'{args.split}_dataloader'].dataset)
    classes = list(dataset.metainfo['classes'])
    matrix = confusion_matrix(dataset, args.prediction_dir,
                              getattr(dataset, 'ignore_index', 255))
    os.makedirs(args.save_dir, exist_ok=True)
    with open(osp.join(args.save_dir, 'confusion_matrix.json'), 'w') as f:
        json.dump(dict(classes=classes, matrix=matrix.tolist()), f)
    rows = matrix.sum(axis=1, keepdims=True)
    # whole per cents: mmpretrain's plot formats the cells as integers
    percent = np.round(100 * matrix / np.maximum(rows, 1)).astype(np.int64)
    fig = ConfusionMatrix.plot(
        torch.from_numpy(percent),
        include_values=args.include_values,
        cmap=args.cmap,
        classes=classes,
        show=False)
    ax = fig.axes[0]
    ax.set_title(args.title)
    for label in ax.get_xticklabels():  # long class names: vertical
        label.set_rotation(90)
    fig.savefig(osp.join(args.save_dir, 'confusion_matrix.png'),
                bbox_inches='tight')
    import matplotlib.pyplot as plt
    plt.close(fig)
    accuracy = 100 * np.trace(matrix) / max(matrix.sum(), 1)
    print(f'\n{int(matrix.sum())} pixels, accuracy {accuracy:.2f} %; '
          f'written to {args.save_dir}')
    return matrix


if __name__ == '__main__':
    main()
