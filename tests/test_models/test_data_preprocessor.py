# Copyright (c) mmexact contributors. All rights reserved.
import pytest
import torch
from mmengine.structures import PixelData

from mmexact.models import SITSDataPreProcessor
from mmseg.structures import SegDataSample


def _sample(t, h, w, fill=1.):
    x = torch.full((t, 4, h, w), fill)
    x[:, -1] = torch.arange(1, t + 1)[:, None, None].float()
    s = SegDataSample()
    s.gt_sem_seg = PixelData(data=torch.ones(1, h, w, dtype=torch.long))
    return x, s


def test_stacks_pads_time_and_space():
    pre = SITSDataPreProcessor()
    (a, sa), (b, sb) = _sample(3, 4, 4), _sample(2, 3, 2, fill=2.)
    out = pre(dict(inputs=[a, b], data_samples=[sa, sb]), training=True)
    x = out['inputs']
    assert x.shape == (2, 3, 4, 4, 4)
    assert torch.equal(x[0], a)  # unchanged, no flips
    assert x[1, 2].abs().sum() == 0  # padded frame: zeros, doy 0
    assert x[1, :2, 0, :3, :2].eq(2).all() and x[1, :2, 0, 3].eq(0).all()
    seg = out['data_samples'][1].gt_sem_seg.data
    assert seg[0, 3].eq(255).all() and seg[0, :3, 2:].eq(255).all()
    assert seg[0, :3, :2].eq(1).all()
    assert out['data_samples'][1].padding_size == [0, 2, 0, 1]
    assert out['data_samples'][1].img_shape == (3, 2)


def test_three_frames_are_not_reversed():
    """mmseg's bgr_to_rgb flips T == 3 series; this one never does."""
    x, s = _sample(3, 2, 2)
    out = SITSDataPreProcessor()(dict(inputs=[x], data_samples=[s]), False)
    assert out['inputs'][0, :, -1, 0, 0].tolist() == [1., 2., 3.]


def test_rejects_bad_inputs():
    pre = SITSDataPreProcessor(size=(2, 2))
    with pytest.raises(ValueError, match='expected a \\(T, C \\+ 1, H, W\\)'):
        pre(dict(inputs=[torch.zeros(4, 2, 2)]))
    with pytest.raises(ValueError, match='larger than the preprocessor'):
        pre(dict(inputs=[torch.zeros(1, 4, 3, 3)]))
