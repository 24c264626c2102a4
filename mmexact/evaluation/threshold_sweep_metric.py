# Copyright (c) mmexact contributors. All rights reserved.
import json
import logging
import math
import os.path as osp
from typing import Dict, List, Optional, Sequence

import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log
from mmengine.utils import mkdir_or_exist

from mmseg.registry import METRICS
from .threshold_sweep import ThresholdSweep

__all__ = ['ThresholdSweepMetric']

CRITERIA = ('oa', 'miou')
#: IoUMetric's arguments, accepted (and not used) when a CAM config's
#: evaluator type is switched to the sweep
IOU_METRIC_ARGS = ('iou_metrics', 'nan_to_num', 'beta', 'format_only',
                   'keep_results')


@METRICS.register_module()
class ThresholdSweepMetric(BaseMetric):
    """Background-threshold sweep of CAM pseudo labels as an mmengine metric.

    Reads the predictions of a CAM segmentor (:class:`SITSCAMSegmentor`):
    ``seg_logits`` (K + 1, H, W) whose channel 0 is the constant background
    score and channels 1..K the CAMs upsampled to the label size, and the
    pixel ground truth ``gt_sem_seg``. For every threshold theta the pseudo
    label of a pixel is ``c + 1`` where its highest CAM (class ``c``) is
    above theta, background 0 otherwise (:class:`ThresholdSweep`, all
    thresholds in one pass).

    Each window is reduced at once to the sparse histogram of its pixels
    over (threshold bin, ground truth, top class), at most H * W index /
    count pairs of int32 and usually far fewer, so the CAMs are never kept;
    mmengine's result collection then gathers them over processes (and
    drops the sampler's padding), and :meth:`compute_metrics` sums them.
    Integer counts: the result does not depend on the number of processes
    or on the order of the windows. Windows whose ground truth is all
    ``ignore_index`` (pixel truth only where parcels are known) contribute
    nothing; if no window has any, the metrics are NaN (with a warning)
    instead of a threshold.

    Args:
        thresholds (Sequence[float], optional): Background thresholds.
            Defaults to ``0.00, 0.01, ..., 0.59``.
        criterion (str): Which threshold the scalar results report:
            ``'oa'`` (the reference's selection) or ``'miou'``. Defaults
            to ``'oa'``.
        ignore_index (int): Ground-truth value to skip. Defaults to 255.
        output_dir (str, optional): Also write the metrics of every
            threshold to ``<output_dir>/threshold_sweep.json``.
        collect_device (str): ``'cpu'`` or ``'gpu'``. Defaults to ``'cpu'``.
        prefix (str, optional): Prefix of the metric names.
        **kwargs: ``IoUMetric``'s own arguments (``iou_metrics``, ...),
            accepted and not used, so that ``--cfg-options
            test_evaluator.type=ThresholdSweepMetric`` turns a CAM config's
            IoU evaluation into the sweep.

    The metrics (:meth:`compute_metrics`) are ``mIoU`` / ``OA`` (percent;
    mIoU is the plain mean over all classes, as the reference's) and
    ``threshold`` at the ``criterion``-best threshold. The JSON file holds
    lists (fractions, not percent): ``thresholds``, ``miou``, ``oa``,
    ``miou_nan`` (mmseg's NaN-skipping mean), ``iou`` (T, C), and
    ``num_pixels``, ``num_windows`` and ``num_labelled_windows`` (those
    with a valid ground-truth pixel).
    """

    def __init__(self,
                 thresholds: Optional[Sequence[float]] = None,
                 criterion: str = 'oa',
                 ignore_index: int = 255,
                 output_dir: Optional[str] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 **kwargs) -> None:
        unknown = sorted(set(kwargs) - set(IOU_METRIC_ARGS))
        if unknown:
            raise TypeError(f'ThresholdSweepMetric got unexpected arguments '
                            f'{unknown}')
        super().__init__(collect_device=collect_device, prefix=prefix)
        if criterion not in CRITERIA:
            raise ValueError(f'criterion must be one of {CRITERIA}, got '
                             f'{criterion!r}')
        if thresholds is None:
            thresholds = ThresholdSweep.arange(0., 0.6, 0.01)
        self.thresholds = list(thresholds)
        self.criterion = criterion
        self.ignore_index = ignore_index
        self.output_dir = output_dir
        self._sweep: Optional[ThresholdSweep] = None

    def _get_sweep(self, num_classes: int) -> ThresholdSweep:
        if self._sweep is None or self._sweep.num_classes != num_classes:
            self._sweep = ThresholdSweep(self.thresholds, num_classes,
                                         self.ignore_index)
        return self._sweep

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Reduce each window to its sparse sweep histogram."""
        for sample in data_samples:
            if 'seg_logits' not in sample or 'gt_sem_seg' not in sample:
                raise KeyError(
                    'ThresholdSweepMetric needs seg_logits (a CAM segmentor) '
                    'and the pixel ground truth gt_sem_seg; sample '
                    f'{sample.get("sample_id", sample.get("img_path"))!r} '
                    'lacks one')
            scores = sample['seg_logits']['data']
            background = scores[0]
            if not bool((background == background.flatten()[0]).all()):
                raise ValueError(
                    'seg_logits channel 0 is not a constant background '
                    'score: ThresholdSweepMetric evaluates CAM segmentors '
                    '(SITSCAMSegmentor)')
            sweep = self._get_sweep(scores.shape[0])
            gt = sample['gt_sem_seg']['data'].to(scores.device)
            index = sweep.bin_index(scores[None, 1:], gt[None])
            bins, counts = torch.unique(index, return_counts=True)
            self.results.append((bins.to(torch.int32).cpu(),
                                 counts.to(torch.int32).cpu(),
                                 scores.shape[0]))

    def compute_metrics(self, results: List[tuple]) -> Dict[str, object]:
        """Sum the windows' histograms and evaluate every threshold."""
        num_classes = {r[2] for r in results}
        if len(num_classes) != 1:
            raise ValueError(f'windows with different numbers of classes: '
                             f'{sorted(num_classes)}')
        sweep = self._get_sweep(num_classes.pop())
        sweep.reset()
        for bins, counts, _ in results:
            sweep.hist.index_add_(0, bins.long(), counts.long())
        res = sweep.compute()
        labelled = sum(int(r[0].numel() > 0) for r in results)
        if res['num_pixels'] == 0:
            print_log(
                f'threshold sweep over {len(results)} windows: no window '
                'has a ground-truth pixel (all ignored), so no threshold '
                'can be chosen from pixel truth: label a few parcels, or '
                'choose theta from the image labels (ImageLabelSweepMetric, '
                'tools/exact/generate_pseudo_labels.py --theta-rule '
                'image-labels)', logger='current', level=logging.WARNING)
        else:
            best = int(torch.argmax(res[self.criterion]))
            print_log(
                f'threshold sweep over {len(results)} windows ({labelled} '
                f'with pixel truth): best {self.criterion} at '
                f'theta={float(res["thresholds"][best]):.4g}',
                logger='current')
        if self.output_dir is not None:
            mkdir_or_exist(self.output_dir)
            table = {k: res[k].tolist() for k in
                     ('thresholds', 'miou', 'oa', 'miou_nan', 'iou')}
            table.update(num_pixels=res['num_pixels'],
                         num_windows=len(results),
                         num_labelled_windows=labelled)
            with open(osp.join(self.output_dir, 'threshold_sweep.json'),
                      'w') as f:
                json.dump(table, f, allow_nan=True)
        if res['num_pixels'] == 0:
            return dict(mIoU=math.nan, OA=math.nan, threshold=math.nan)
        return dict(
            mIoU=100 * float(res['miou'][best]),
            OA=100 * float(res['oa'][best]),
            threshold=float(res['thresholds'][best]))
