# Copyright (c) mmexact contributors. All rights reserved.
"""Background-threshold sweep of CAM pseudo labels (exact-method.md §7.3)."""
import math
from typing import Dict, Optional, Sequence, Union

import torch
from torch import Tensor

__all__ = ['ThresholdSweep', 'cams_to_pseudo_labels']


def cams_to_pseudo_labels(cams: Tensor, threshold: float) -> Tensor:
    """CAM pseudo label: argmax over ``[theta, cam_1, ..., cam_K]``.

    Equivalent to ``cams_to_seg_scores(cams, theta, size).argmax(1)`` on
    already upsampled CAMs, without building the (K + 1)-channel tensor:
    pixel label ``c + 1`` where the highest CAM ``v`` (class ``c``, lowest
    index on ties) is strictly above ``theta``, background 0 otherwise
    (ties go to the background).

    Args:
        cams (Tensor): CAMs (..., K, H, W), e.g. (B, K, H, W) upsampled to
            the label size; absent classes are expected to be zero.
        threshold (float): theta, compared in the dtype of ``cams``.

    Returns:
        Tensor: int64 labels (..., H, W) in ``0..K``.
    """
    value, index = cams.max(dim=-3)
    return torch.where(value > threshold, index + 1,
                       torch.zeros_like(index))


class ThresholdSweep:
    """Confusion matrices of CAM pseudo labels for many thresholds at once.

    For every threshold theta the pseudo label of a pixel is
    ``c + 1`` if ``v > theta`` else 0, with ``v`` the pixel's highest CAM
    and ``c`` its class (:func:`cams_to_pseudo_labels`). The label depends
    on theta only through ``n = #{theta_j < v}``: with thresholds sorted
    ascending, the pixel is foreground ``c + 1`` for ``theta_j``,
    ``j < n``, and background for ``j >= n``. :meth:`update` therefore
    only accumulates the histogram ``H[n, gt, c]`` (one ``bincount`` per
    batch, no loop over thresholds or pixels; memory
    ``(T + 1) * C * (C - 1)`` counts whatever the number of windows), and
    :meth:`compute` derives all T confusion matrices with cumulative sums::

        CM_j[gt, c + 1] = sum_{n > j} H[n, gt, c]
        CM_j[gt, 0]     = sum_{n <= j} sum_c H[n, gt, c]

    Metrics follow the reference (exact-method.md §7.3): per-class
    ``IoU = TP / (GT + Pred - TP + 1e-10)`` over all C classes (background
    included), ``mIoU`` = plain mean over the C classes (classes absent from
    both prediction and ground truth count as 0), ``OA`` = correct / valid
    pixels; ``mIoU_nan`` is mmseg's NaN-skipping mean, for information.

    Args:
        thresholds (Sequence[float], optional): Background thresholds; they
            are sorted ascending (results follow that order). Defaults to
            ``0.00, 0.01, ..., 0.59``.
        num_classes (int): C, classes incl. background (CAMs have C - 1
            channels). Defaults to 19.
        ignore_index (int): Ground-truth value to skip; any value outside
            ``0..C-1`` is skipped as well. Defaults to 255.

    Example:
        >>> sweep = ThresholdSweep()
        >>> for cams, gt in batches:  # (B, 18, H, W) in [0, 1], (B, H, W)
        ...     sweep.update(cams, gt)
        >>> res = sweep.compute()
        >>> res['miou'].shape, res['confusion'].shape
        (torch.Size([60]), torch.Size([60, 19, 19]))
    """

    def __init__(self,
                 thresholds: Optional[Sequence[float]] = None,
                 num_classes: int = 19,
                 ignore_index: int = 255) -> None:
        if thresholds is None:
            thresholds = self.arange(0., 0.6, 0.01)
        thresholds = sorted(float(t) for t in thresholds)
        if not thresholds:
            raise ValueError('at least one threshold is needed')
        if num_classes < 2:
            raise ValueError('num_classes must be >= 2 (background + 1)')
        self.thresholds = torch.tensor(thresholds, dtype=torch.float64)
        self.num_classes = num_classes
        self.num_fg = num_classes - 1
        self.ignore_index = ignore_index
        self.reset()

    @staticmethod
    def arange(start: float, stop: float, step: float) -> list:
        """Thresholds ``start, start + step, ...`` below ``stop``.

        Like ``numpy.arange`` but each value is rounded to 10 decimals, so
        ``arange(0, 0.6, 0.01)`` is exactly ``[0.0, 0.01, ..., 0.59]``.
        """
        if step <= 0:
            raise ValueError('step must be positive')
        num = max(int(math.ceil((stop - start) / step - 1e-9)), 0)
        return [round(start + i * step, 10) for i in range(num)]

    @property
    def num_bins(self) -> int:
        """Size of the flat histogram ``(T + 1) * C * (C - 1)``."""
        return (len(self.thresholds) + 1) * self.num_classes * self.num_fg

    def reset(self) -> None:
        """Clear the accumulated histogram."""
        self.hist = torch.zeros(self.num_bins, dtype=torch.int64)

    def bin_index(self, cams: Tensor, gt: Tensor) -> Tensor:
        """Flat histogram bin ``(n, gt, c)`` of every valid pixel.

        Args:
            cams (Tensor): CAMs (B, C - 1, H, W) at label resolution (see
                :func:`mmexact.models.utils.upsample_cams`), absent classes
                zero.
            gt (Tensor): Ground truth (B, H, W) or (B, 1, H, W); pixels
                equal to ``ignore_index`` (or outside ``0..C-1``) are
                skipped.

        Returns:
            Tensor: int64 bin indices (P, ) of the P valid pixels, on the
            device of ``cams``.
        """
        if gt.dim() == cams.dim():
            gt = gt.squeeze(-3)
        if cams.dim() != 4 or cams.shape[1] != self.num_fg:
            raise ValueError(f'expected CAMs (B, {self.num_fg}, H, W), got '
                             f'{tuple(cams.shape)}')
        if gt.shape != cams.shape[:1] + cams.shape[2:]:
            raise ValueError(f'ground truth {tuple(gt.shape)} does not match '
                             f'CAMs {tuple(cams.shape)}')
        value, cls = cams.max(dim=1)
        gt = gt.to(device=cams.device, dtype=torch.int64)
        valid = (gt >= 0) & (gt < self.num_classes) & \
            (gt != self.ignore_index)
        value, cls, gt = value[valid], cls[valid], gt[valid]
        thr = self.thresholds.to(device=cams.device, dtype=value.dtype)
        below = torch.searchsorted(thr, value)  # #{theta_j < v}
        return (below * self.num_classes + gt) * self.num_fg + cls

    def update(self, cams: Tensor, gt: Tensor) -> None:
        """Accumulate a batch (arguments as :meth:`bin_index`)."""
        self.hist += torch.bincount(
            self.bin_index(cams, gt),
            minlength=self.num_bins).to(self.hist.device)

    def confusion_matrices(self) -> Tensor:
        """All confusion matrices, (T, C, C) int64, rows = ground truth."""
        num_thr = len(self.thresholds)
        hist = self.hist.view(num_thr + 1, self.num_classes, self.num_fg)
        # suffix[n] = sum_{m >= n} H[m]; prefix[n] = sum_{m <= n} H[m]
        suffix = hist.flip(0).cumsum(0).flip(0)
        prefix = hist.sum(-1).cumsum(0)
        cm = torch.empty(
            num_thr, self.num_classes, self.num_classes, dtype=torch.int64)
        cm[:, :, 0] = prefix[:num_thr]
        cm[:, :, 1:] = suffix[1:]
        return cm

    @staticmethod
    def metrics_from_confusion(cm: Tensor) -> Dict[str, Tensor]:
        """IoU, mIoU, mIoU_nan and OA of confusion matrices (..., C, C).

        Returns:
            dict: ``iou`` (..., C), ``miou``, ``miou_nan`` and ``oa`` (...),
            float64.
        """
        cm = cm.to(torch.float64)
        tp = cm.diagonal(dim1=-2, dim2=-1)
        union = cm.sum(-1) + cm.sum(-2) - tp
        iou = tp / (union + 1e-10)
        iou_nan = torch.where(union > 0, tp / union.clamp(min=1),
                              torch.full_like(tp, math.nan))
        total = cm.sum((-2, -1))
        oa = torch.where(total > 0, tp.sum(-1) / total.clamp(min=1),
                         torch.full_like(total, math.nan))
        return dict(
            iou=iou, miou=iou.mean(-1), miou_nan=iou_nan.nanmean(-1), oa=oa)

    def compute(self) -> Dict[str, Union[Tensor, int]]:
        """Metrics of every threshold.

        Returns:
            dict: ``thresholds`` (T,) float64 (ascending), ``confusion``
            (T, C, C) int64, ``iou`` (T, C), ``miou`` (T,), ``miou_nan``
            (T,), ``oa`` (T,) float64 (fractions, not percent) and
            ``num_pixels`` (int, valid pixels seen).
        """
        cm = self.confusion_matrices()
        res = dict(thresholds=self.thresholds.clone(), confusion=cm)
        res.update(self.metrics_from_confusion(cm))
        res['num_pixels'] = int(self.hist.sum())
        return res
