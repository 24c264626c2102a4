# Copyright (c) mmexact contributors. All rights reserved.
import pytest
import torch
from mmengine.config import ConfigDict
from mmengine.optim import OptimWrapper
from mmengine.structures import PixelData

from mmexact.testing import tiny_segmentor_cfg
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample


def _batch(b=2, t=4, hw=24, seed=0):
    g = torch.Generator().manual_seed(seed)
    inputs, samples = [], []
    for _ in range(b):
        x = torch.randn(t, 11, hw, hw, generator=g)
        x[:, -1] = torch.arange(1, t + 1)[:, None, None] * 40.
        s = SegDataSample()
        s.gt_sem_seg = PixelData(
            data=torch.randint(0, 19, (1, hw, hw), generator=g))
        s.set_metainfo(dict(ori_shape=(hw, hw), img_shape=(hw, hw)))
        inputs.append(x)
        samples.append(s)
    return dict(inputs=inputs, data_samples=samples)


def _model(**kw):
    torch.manual_seed(0)
    return MODELS.build(tiny_segmentor_cfg(**kw))


def test_segmentor_contract():
    model = _model()
    data = model.data_preprocessor(_batch(), True)
    losses = model(**data, mode='loss')
    assert set(losses) == {'decode.loss_ce', 'decode.acc_seg'}
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    out = model.train_step(_batch(), optim)
    assert 'loss' in out and torch.isfinite(out['loss'])
    model.eval()
    preds = model.val_step(_batch())
    assert preds[0].pred_sem_seg.data.shape == (1, 24, 24)
    assert preds[0].seg_logits.data.shape == (19, 24, 24)
    logits = model(torch.stack(_batch()['inputs']), mode='tensor')
    assert logits.shape == (2, 19, 24, 24)
    # predict without data samples uses the last two dims as image size
    res = model.predict(torch.stack(_batch()['inputs']))
    assert res[0].pred_sem_seg.data.shape == (1, 24, 24)


@pytest.mark.slow
def test_slide_inference_maps_large_patches():
    """A 24 x 24 model labels a larger patch; non-overlapping slide equals
    whole inference of each 24 x 24 crop."""
    model = _model().eval()
    x = torch.stack(_batch(b=1, hw=48)['inputs'])  # (1, T, 11, 48, 48)
    model.test_cfg = ConfigDict(
        mode='slide', crop_size=(24, 24), stride=(24, 24))
    meta = [dict(ori_shape=(48, 48), img_shape=(48, 48), pad_shape=(48, 48))]
    with torch.no_grad():
        slide = model.inference(x, [dict(m) for m in meta])
        crop = model.encode_decode(x[..., 24:, :24], [
            dict(img_shape=(24, 24), pad_shape=(24, 24), ori_shape=(24, 24))
        ])
    assert slide.shape == (1, 19, 48, 48)
    assert torch.allclose(slide[..., 24:, :24], crop, atol=1e-5)
    # a whole 128 x 128 PASTIS patch with overlapping crops (stride 16)
    model.test_cfg = ConfigDict(
        mode='slide', crop_size=(24, 24), stride=(16, 16))
    x = torch.stack(_batch(b=1, hw=128, t=3)['inputs'])
    with torch.no_grad():
        res = model.predict(x)
    assert res[0].pred_sem_seg.data.shape == (1, 128, 128)


def test_fcn_head_on_tsvit_featmap():
    cfg = tiny_segmentor_cfg(out_type='featmap')
    cfg['decode_head'] = dict(
        type='FCNHead', in_channels=19 * 16, channels=8, num_convs=1,
        concat_input=False, num_classes=19,
        loss_decode=dict(type='CrossEntropyLoss', avg_non_ignore=True))
    model = MODELS.build(cfg)
    data = model.data_preprocessor(_batch(), True)
    losses = model(**data, mode='loss')
    assert torch.isfinite(losses['decode.loss_ce'])
