# Copyright (c) mmexact contributors. All rights reserved.
from typing import List

import torch.distributed as dist
import torch.nn.functional as F
from mmengine.config import ConfigDict
from mmengine.dist import get_world_size, is_distributed
from torch import Tensor

from mmseg.models.segmentors import EncoderDecoder
from mmseg.registry import MODELS
from mmseg.utils import OptSampleList, SampleList

__all__ = ['SITSEncoderDecoder']


@MODELS.register_module()
class SITSEncoderDecoder(EncoderDecoder):
    """``EncoderDecoder`` for satellite image time series (B, T, C, H, W).

    mmseg's segmentor assumes 4-D images in ``predict`` (image size taken
    from ``inputs.shape[2:]``) and in slide inference (crops of
    ``inputs[:, :, y1:y2, x1:x2]``). This subclass uses the last two
    dimensions instead, so whole and slide inference work for 5-D inputs:
    e.g. a model trained on 24 x 24 windows maps a whole 128 x 128 PASTIS
    patch with ``test_cfg=dict(mode='slide', crop_size=(24, 24),
    stride=(16, 16))``. Training and everything else is inherited;
    ``train_cfg`` / ``test_cfg`` may be plain dicts.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.train_cfg = ConfigDict(self.train_cfg or {})
        self.test_cfg = ConfigDict(self.test_cfg or {})

    def parse_losses(self, losses):
        loss, log_vars = super().parse_losses(losses)
        if is_distributed() and get_world_size() > 1:
            for key, value in log_vars.items():
                value = value.detach().clone()
                dist.all_reduce(value)
                log_vars[key] = value / get_world_size()
        return loss, log_vars

    def predict(self,
                inputs: Tensor,
                data_samples: OptSampleList = None) -> SampleList:
        if data_samples is not None:
            batch_img_metas = [s.metainfo for s in data_samples]
        else:
            size = inputs.shape[-2:]
            batch_img_metas = [
                dict(
                    ori_shape=size,
                    img_shape=size,
                    pad_shape=size,
                    padding_size=[0, 0, 0, 0])
            ] * inputs.shape[0]
        seg_logits = self.inference(inputs, batch_img_metas)
        return self.postprocess_result(seg_logits, data_samples)

    def slide_inference(self, inputs: Tensor,
                        batch_img_metas: List[dict]) -> Tensor:
        h_stride, w_stride = self.test_cfg.stride
        h_crop, w_crop = self.test_cfg.crop_size
        batch_size = inputs.shape[0]
        h_img, w_img = inputs.shape[-2:]
        h_grids = max(h_img - h_crop + h_stride - 1, 0) // h_stride + 1
        w_grids = max(w_img - w_crop + w_stride - 1, 0) // w_stride + 1
        preds = inputs.new_zeros((batch_size, self.out_channels, h_img, w_img))
        count = inputs.new_zeros((batch_size, 1, h_img, w_img))
        for h_idx in range(h_grids):
            for w_idx in range(w_grids):
                y2 = min(h_idx * h_stride + h_crop, h_img)
                x2 = min(w_idx * w_stride + w_crop, w_img)
                y1, x1 = max(y2 - h_crop, 0), max(x2 - w_crop, 0)
                crop = inputs[..., y1:y2, x1:x2]
                batch_img_metas[0]['img_shape'] = crop.shape[-2:]
                logits = self.encode_decode(crop, batch_img_metas)
                preds += F.pad(logits,
                               (x1, w_img - x2, y1, h_img - y2))
                count[..., y1:y2, x1:x2] += 1
        return preds / count
