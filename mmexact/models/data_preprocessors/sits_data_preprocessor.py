# Copyright (c) mmexact contributors. All rights reserved.
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmengine.model import BaseDataPreprocessor
from mmengine.structures import PixelData
from torch import Tensor

from mmseg.registry import MODELS

__all__ = ['SITSDataPreProcessor']


@MODELS.register_module()
class SITSDataPreProcessor(BaseDataPreprocessor):
    """Batch packed SITS samples (T, C + 1, H, W) into (B, T, C + 1, H, W).

    Unlike mmseg's ``SegDataPreProcessor`` it accepts 4-D samples in both
    training and testing and never flips channels or time (mmseg's
    ``bgr_to_rgb`` would reverse the time axis of a 3-frame series).
    Normalisation is done by the ``NormalizeSITS`` transform; the last
    (day-of-year) channel is never touched here.

    Samples of different length are zero-padded at the end of the time axis
    (padded frames get day of year 0, i.e. they are marked as padding) and
    samples of different size are padded right / bottom with ``pad_val``;
    their labels are padded with ``seg_pad_val`` and ``padding_size``
    (left, right, top, bottom) is recorded in each sample's metainfo so that
    predictions are cropped back.

    Args:
        size (tuple[int, int], optional): Pad every batch to this (H, W).
        pad_val (float): Padding value of the image. Defaults to 0.
        seg_pad_val (int): Padding value of labels. Defaults to 255.
        non_blocking (bool): Non-blocking host-to-device copies.
    """

    def __init__(self,
                 size: Optional[Sequence[int]] = None,
                 pad_val: float = 0.,
                 seg_pad_val: int = 255,
                 non_blocking: bool = False) -> None:
        super().__init__(non_blocking=non_blocking)
        self.size = tuple(size) if size is not None else None
        self.pad_val = pad_val
        self.seg_pad_val = seg_pad_val

    def forward(self, data: Dict[str, Any],
                training: bool = False) -> Dict[str, Any]:
        """Cast to the model's device and stack.

        Args:
            data (dict): ``inputs`` (list of (T, C + 1, H, W) tensors or a
                stacked 5-D tensor) and optional ``data_samples``.
            training (bool): Unused; batching is the same in both modes.

        Returns:
            dict: ``inputs`` (B, T, C + 1, H, W) float and ``data_samples``.
        """
        data = self.cast_data(data)
        inputs = data['inputs']
        samples = data.get('data_samples', None)
        if isinstance(inputs, Tensor) and inputs.dim() == 5:
            inputs = list(inputs)
        if not isinstance(inputs, (list, tuple)) or not inputs:
            raise TypeError('SITSDataPreProcessor expects a non-empty list '
                            'of (T, C + 1, H, W) tensors')
        for i, x in enumerate(inputs):
            if x.dim() != 4:
                raise ValueError(
                    f'sample {i}: expected a (T, C + 1, H, W) tensor, got '
                    f'shape {tuple(x.shape)}; use PackSITSInputs')
        channels = {x.shape[1] for x in inputs}
        if len(channels) != 1:
            raise ValueError(f'samples have different channel counts '
                             f'{sorted(channels)}')
        batch = self._stack(inputs, samples)
        return dict(inputs=batch, data_samples=samples)

    def _target_shape(self, inputs: List[Tensor]) -> Tuple[int, int, int]:
        t = max(x.shape[0] for x in inputs)
        h = max(x.shape[2] for x in inputs)
        w = max(x.shape[3] for x in inputs)
        if self.size is not None:
            if h > self.size[0] or w > self.size[1]:
                raise ValueError(f'sample of size {(h, w)} is larger than '
                                 f'the preprocessor size {self.size}')
            h, w = self.size
        return t, h, w

    def _stack(self, inputs: List[Tensor], samples) -> Tensor:
        t, h, w = self._target_shape(inputs)
        out = []
        for i, x in enumerate(inputs):
            x = x.float()
            pad_t, pad_h, pad_w = (t - x.shape[0], h - x.shape[2],
                                   w - x.shape[3])
            if pad_h or pad_w:
                x = F.pad(x, (0, pad_w, 0, pad_h), value=self.pad_val)
            if pad_t:  # padded frames: all zero, day of year 0
                x = torch.cat([x, x.new_zeros(pad_t, *x.shape[1:])])
            out.append(x)
            if samples is None:
                continue
            sample = samples[i]
            if pad_h or pad_w:
                if 'gt_sem_seg' in sample:
                    seg = F.pad(sample.gt_sem_seg.data, (0, pad_w, 0, pad_h),
                                value=self.seg_pad_val)
                    sample.gt_sem_seg = PixelData(
                        data=seg, metainfo=sample.gt_sem_seg.metainfo)
            sample.set_metainfo(
                dict(
                    img_shape=tuple(inputs[i].shape[-2:]),
                    pad_shape=(h, w),
                    padding_size=[0, pad_w, 0, pad_h]))
        return torch.stack(out)
