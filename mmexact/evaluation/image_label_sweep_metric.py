# Copyright (c) mmexact contributors. All rights reserved.
"""Background-threshold selection from image-level labels only."""
import json
import logging
import math
import os.path as osp
from typing import Dict, List, Optional, Sequence

import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log
from mmengine.utils import mkdir_or_exist
from torch import Tensor

from mmseg.registry import METRICS
from .threshold_sweep import ThresholdSweep
from .threshold_sweep_metric import IOU_METRIC_ARGS

__all__ = ['ImageLabelSweepMetric', 'presence_depth', 'presence_counts']


def presence_depth(cams: Tensor, thresholds: Tensor,
                   min_fraction: float = 0.01) -> Tensor:
    """For every class, at how many thresholds it is present in a window.

    The pseudo label of a pixel at threshold theta is ``c + 1`` where its
    highest CAM ``v`` (class ``c``, lowest index on ties) is strictly above
    theta, background otherwise (:func:`cams_to_pseudo_labels`, the
    convention of :class:`ThresholdSweep`). Class ``c`` is *present* at
    theta when it labels strictly more than ``min_fraction`` of the
    window's ``H * W`` pixels (Exact's image-label rule, exact-method.md
    §2.2). Its pixel count can only fall as theta rises, so with the
    thresholds sorted ascending the class is present at
    ``thresholds[:d]`` and absent at the rest: ``d`` (the depth) says it
    all.

    Args:
        cams (Tensor): CAMs (K, H, W) of one window at label resolution.
        thresholds (Tensor): Ascending thresholds (T,), any float dtype;
            compared in the dtype of ``cams``.
        min_fraction (float): Presence fraction. Defaults to 0.01.

    Returns:
        Tensor: int64 depths (K,) in ``0..T``.
    """
    num_fg = cams.shape[0]
    num_thr = thresholds.numel()
    value, cls = cams.flatten(1).max(dim=0)
    thr = thresholds.to(device=cams.device, dtype=value.dtype)
    below = torch.searchsorted(thr, value)  # #{theta_j < v}
    hist = torch.bincount(below * num_fg + cls,
                          minlength=(num_thr + 1) * num_fg)
    hist = hist.view(num_thr + 1, num_fg)
    # pixels of class c at theta_j: those with below > j
    count = hist.flip(0).cumsum(0).flip(0)[1:]  # (T, K)
    present = count > min_fraction * value.numel()
    return present.sum(0).cpu()


def presence_counts(depths: Tensor, labels: Tensor,
                    num_thresholds: int) -> Dict[str, Tensor]:
    """Presence TP / FP / FN of every (threshold, class) over windows.

    Args:
        depths (Tensor): Depths (N, K) of :func:`presence_depth`.
        labels (Tensor): Image labels (N, K), multi-hot.
        num_thresholds (int): T.

    Returns:
        dict: int64 ``tp``, ``fp``, ``fn`` of shape (T, K): for the
        (window, class) pairs, predicted present at ``theta_j`` means
        ``depth > j``.
    """
    num_fg = depths.shape[1]
    pos = labels.bool()
    cls = torch.arange(num_fg).expand_as(depths)
    key = cls * (num_thresholds + 1) + depths.long()
    size = num_fg * (num_thresholds + 1)
    out = {}
    for name, mask in (('pos', pos), ('neg', ~pos)):
        hist = torch.bincount(key[mask], minlength=size).view(
            num_fg, num_thresholds + 1)
        # pairs with depth > j, j = 0..T-1
        out[name] = hist.flip(1).cumsum(1).flip(1)[:, 1:].t()
        out[name + '_total'] = hist.sum(1)
    return dict(tp=out['pos'], fp=out['neg'],
                fn=out['pos_total'][None] - out['pos'])


def _ratio(num: Tensor, den: Tensor) -> Tensor:
    num, den = num.double(), den.double()
    return torch.where(den > 0, num / den.clamp(min=1),
                       torch.full_like(num, math.nan))


@METRICS.register_module()
class ImageLabelSweepMetric(BaseMetric):
    """Background-threshold sweep scored by image-level labels only.

    A label-free substitute for :class:`ThresholdSweepMetric` (which needs
    pixel ground truth): for every threshold theta the thresholded CAM map
    of a window (pixel label ``c + 1`` where its top CAM, class ``c``, is
    strictly above theta) says which classes are present — those labelling
    strictly more than ``min_fraction`` of the window's pixels, Exact's
    rule for image labels. The presence is compared with the window's
    image labels ``gt_cls_label`` (K,) over all (window, class) pairs; the
    score is the micro F1 ``2 TP / (2 TP + FP + FN)``. The best threshold
    is the one with the highest F1, the lowest threshold on ties.

    **Run it on ungated CAMs** (``model.decode_head.cam_gating='none'``):
    gated by the image labels (``'gt'``) the CAMs of absent classes are
    zero, so nothing outside the labels is ever present, precision is 1 at
    every theta and F1 only falls with theta — the rule would always pick
    the lowest one. The pseudo labels themselves are then written with the
    usual gating at the selected theta (``tools/exact/
    generate_pseudo_labels.py --theta-rule image-labels`` does both).

    Each window is reduced at once to the depth (K,) of every class
    (:func:`presence_depth`: at how many of the ascending thresholds it is
    present), so mmengine's collection over processes (which drops the
    sampler's padding) gathers K integers per window; the result does not
    depend on the number of processes or on the order of the windows.

    Args:
        thresholds (Sequence[float], optional): Background thresholds
            (sorted ascending). Defaults to ``0.00, 0.01, ..., 0.59``.
        min_fraction (float): A class is present when it labels strictly
            more than this fraction of a window's pixels. Defaults to 0.01
            (Exact's rule, exact-method.md §2.2).
        output_dir (str, optional): Also write the metrics of every
            threshold to ``<output_dir>/image_label_sweep.json``.
        collect_device (str): ``'cpu'`` or ``'gpu'``. Defaults to ``'cpu'``.
        prefix (str, optional): Prefix of the metric names.
        **kwargs: ``IoUMetric``'s own arguments, accepted and not used (as
            :class:`ThresholdSweepMetric`).

    The metrics (:meth:`compute_metrics`) are ``F1``, ``precision`` and
    ``recall`` (percent) at the F1-best ``threshold``. The JSON file holds
    lists (fractions): ``thresholds`` (T,), ``f1``, ``precision``,
    ``recall`` (T,; NaN where undefined: no predicted / labelled pair),
    ``tp``, ``fp``, ``fn`` (T,) and per class ``class_tp``, ``class_fp``,
    ``class_fn`` (T, K), and ``best_index``, ``min_fraction``,
    ``num_windows``, ``num_labelled_pairs``.
    """

    def __init__(self,
                 thresholds: Optional[Sequence[float]] = None,
                 min_fraction: float = 0.01,
                 output_dir: Optional[str] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 **kwargs) -> None:
        unknown = sorted(set(kwargs) - set(IOU_METRIC_ARGS))
        if unknown:
            raise TypeError(f'ImageLabelSweepMetric got unexpected '
                            f'arguments {unknown}')
        super().__init__(collect_device=collect_device, prefix=prefix)
        if not 0 <= min_fraction < 1:
            raise ValueError(f'min_fraction must lie in [0, 1), got '
                             f'{min_fraction}')
        if thresholds is None:
            thresholds = ThresholdSweep.arange(0., 0.6, 0.01)
        thresholds = sorted(float(t) for t in thresholds)
        if not thresholds:
            raise ValueError('at least one threshold is needed')
        self.thresholds = thresholds
        self._thr = torch.tensor(thresholds, dtype=torch.float64)
        self.min_fraction = min_fraction
        self.output_dir = output_dir

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Reduce each window to the presence depth of every class."""
        for sample in data_samples:
            name = sample.get('sample_id', sample.get('img_path'))
            if 'seg_logits' not in sample or 'gt_cls_label' not in sample:
                raise KeyError(
                    'ImageLabelSweepMetric needs seg_logits (a CAM '
                    'segmentor) and the image labels gt_cls_label; sample '
                    f'{name!r} lacks one')
            scores = sample['seg_logits']['data']
            background = scores[0]
            if not bool((background == background.flatten()[0]).all()):
                raise ValueError(
                    'seg_logits channel 0 is not a constant background '
                    'score: ImageLabelSweepMetric evaluates CAM segmentors '
                    '(SITSCAMSegmentor)')
            labels = torch.as_tensor(sample['gt_cls_label']).flatten()
            if labels.numel() != scores.shape[0] - 1:
                raise ValueError(
                    f'sample {name!r}: gt_cls_label has {labels.numel()} '
                    f'classes, the CAMs {scores.shape[0] - 1}')
            depth = presence_depth(scores[1:], self._thr, self.min_fraction)
            self.results.append((depth.to(torch.int32), (labels > 0).cpu()))

    def compute_metrics(self, results: List[tuple]) -> Dict[str, float]:
        """Sum presence TP / FP / FN over the windows, per threshold."""
        num_fg = {r[0].numel() for r in results}
        if len(num_fg) != 1:
            raise ValueError(f'windows with different numbers of classes: '
                             f'{sorted(num_fg)}')
        depths = torch.stack([r[0].long() for r in results])
        labels = torch.stack([r[1] for r in results])
        res = self.sweep_from_counts(
            presence_counts(depths, labels, len(self.thresholds)))
        best = res['best_index']
        if best is None:
            print_log(
                f'image-label sweep over {len(results)} windows: no window '
                'has an image label and no class is present at any '
                'threshold, F1 is undefined', logger='current',
                level=logging.WARNING)
        else:
            print_log(
                f'image-label sweep over {len(results)} windows: best F1 '
                f'{100 * res["f1"][best]:.2f} at theta='
                f'{self.thresholds[best]:.4g}', logger='current')
        if self.output_dir is not None:
            mkdir_or_exist(self.output_dir)
            table = dict(res, min_fraction=self.min_fraction,
                         num_windows=len(results),
                         num_labelled_pairs=int(labels.sum()))
            with open(osp.join(self.output_dir, 'image_label_sweep.json'),
                      'w') as f:
                json.dump(table, f, allow_nan=True)
        if best is None:
            return dict(F1=math.nan, precision=math.nan, recall=math.nan,
                        threshold=math.nan)
        return dict(
            F1=100 * res['f1'][best],
            precision=100 * res['precision'][best],
            recall=100 * res['recall'][best],
            threshold=self.thresholds[best])

    def sweep_from_counts(self, counts: Dict[str, Tensor]) -> dict:
        """Micro precision, recall and F1 of every threshold.

        Args:
            counts (dict): ``tp``, ``fp``, ``fn`` (T, K) of
                :func:`presence_counts`.

        Returns:
            dict: lists ``thresholds``, ``f1``, ``precision``, ``recall``,
            ``tp``, ``fp``, ``fn`` (T,), ``class_tp``, ``class_fp``,
            ``class_fn`` (T, K), and ``best_index`` (the F1-best threshold,
            lowest on ties; None if F1 is undefined everywhere).
        """
        tp, fp, fn = (counts[k].sum(1) for k in ('tp', 'fp', 'fn'))
        f1 = _ratio(2 * tp, 2 * tp + fp + fn)
        valid = ~torch.isnan(f1)
        best = None
        if bool(valid.any()):
            # first maximum: the lowest threshold on ties
            best = int(torch.argmax(
                torch.where(valid, f1, torch.full_like(f1, -1.))))
        return dict(
            thresholds=list(self.thresholds),
            f1=f1.tolist(),
            precision=_ratio(tp, tp + fp).tolist(),
            recall=_ratio(tp, tp + fn).tolist(),
            tp=tp.tolist(), fp=fp.tolist(), fn=fn.tolist(),
            class_tp=counts['tp'].tolist(),
            class_fp=counts['fp'].tolist(),
            class_fn=counts['fn'].tolist(),
            best_index=best)
