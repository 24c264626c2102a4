# Copyright (c) mmexact contributors. All rights reserved.
"""init_model / inference_sits / SITSInferencer on in-memory arrays."""
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.structures import BaseDataElement

from mmexact.apis import (SITSArraySource, SITSInferencer, inference_sits,
                          init_model, window_starts)
from mmexact.structures import SITSDataError
from mmexact.testing import TINY_BACKBONE, sits_pipeline
from mmseg.registry import TRANSFORMS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DOY = np.array([15, 60, 120, 180, 240])


def _cfg(path: str, **model) -> Config:
    """A shipped config with a tiny backbone and a 6-frame test pipeline."""
    cfg = Config.fromfile(osp.join(REPO, 'configs', path))
    cfg.merge_from_dict(dict(model=dict(backbone=dict(TINY_BACKBONE),
                                        **model)))
    pipe = sits_pipeline(6)
    cfg.test_dataloader.dataset.pipeline = pipe
    return cfg


def _scene(h: int, w: int, t: int = 5, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 6000, (t, 10, h, w)).astype(np.float32)


def _slide(model, img: np.ndarray, doy: np.ndarray, crop=24, stride=16):
    """In-memory slide inference of the segmentor on the whole scene."""
    res = dict(img=img.copy(), doy=doy.copy())
    for step in sits_pipeline(6)[1:-1]:
        res = TRANSFORMS.build(step)(res)
    x = torch.from_numpy(res['img'])[None]
    model.test_cfg.update(mode='slide', crop_size=(crop, crop),
                          stride=(stride, stride))
    h, w = img.shape[-2:]
    with torch.no_grad():
        return model.slide_inference(
            x, [dict(img_shape=(h, w), ori_shape=(h, w))])[0].numpy()


def test_window_starts_is_the_slide_grid():
    # mmseg: n = (size - crop + stride - 1) // stride + 1, last flush
    assert window_starts(50, 24, 16).tolist() == [0, 16, 26]
    assert window_starts(24, 24, 16).tolist() == [0]
    assert window_starts(40, 24, 16).tolist() == [0, 16]
    assert window_starts(72, 24, 24).tolist() == [0, 24, 48]


@pytest.mark.slow
def test_stitched_blocks_equal_slide_inference():
    """Blocks of 32 px on a 50 x 62 scene (seams inside windows): the
    stitched logits are bitwise those of SITSEncoderDecoder.slide_inference
    with one window per forward pass; batched forward passes may differ in
    the last bits of a matmul, so batches of 5 are compared within 1e-5."""
    torch.manual_seed(0)
    model = init_model(_cfg('tsvit/tsvit_1xb48-100e_pastis24-24x24.py',
                            decode_head=dict(in_channels=16)))
    img = _scene(50, 62)
    ref = _slide(model, img, DOY)
    out = inference_sits(model, img, DOY, batch_size=1, block_size=32)
    assert out['seg_logits'].shape == (19, 50, 62)
    assert np.array_equal(out['seg_logits'], ref)  # bitwise
    assert np.array_equal(out['pred'], ref.argmax(0).astype(np.uint8))
    assert out['valid'].all()
    prob = torch.from_numpy(ref).softmax(0).numpy()
    np.testing.assert_allclose(out['scores'], prob, atol=1e-6)
    batched = inference_sits(model, img, DOY, batch_size=5, block_size=40)
    np.testing.assert_allclose(batched['seg_logits'], ref, atol=1e-5)
    assert out['classes'][3] == 'Corn' and len(out['palette']) == 19


@pytest.mark.parametrize('path,model', [
    ('exact/exact-stage2_tsvit_1xb48-100e_pastis24-24x24.py',
     dict(decode_head=dict(in_channels=16))),
    ('tsvit/tsvit-fcn_1xb48-100e_pastis24-24x24.py',
     dict(decode_head=dict(in_channels=19 * 16, channels=16))),
])
def test_shipped_segmentation_models(path, model):
    torch.manual_seed(1)
    net = init_model(_cfg(path, **model))
    img = _scene(40, 30, seed=2)
    ref = _slide(net, img, DOY)
    out = inference_sits(net, img, DOY, batch_size=4, block_size=24)
    np.testing.assert_allclose(out['seg_logits'], ref, atol=1e-5)
    assert (out['pred'] == ref.argmax(0)).mean() > 0.999


def test_scene_smaller_than_window_and_nodata():
    """A 20 x 30 scene is padded with no-data to the 24 x 24 window;
    pixels that are no-data at every date get 255, and windows without
    any data are never run."""
    torch.manual_seed(0)
    model = init_model(_cfg('tsvit/tsvit_1xb48-100e_pastis24-24x24.py',
                            decode_head=dict(in_channels=16)))
    img = _scene(20, 30)
    img[:, :, :5, :7] = -10000  # no data at any date
    img[2, :, 10:, :] = -10000  # one cloudy date: still valid
    inf = SITSInferencer(model, block_size=24)
    calls = []
    forward = inf.forward
    inf.forward = lambda x: calls.append(len(x)) or forward(x)
    out = inf.predict_array(SITSArraySource(img, DOY))
    assert out['pred'].shape == (20, 30)
    assert (out['pred'][:5, :7] == 255).all()
    assert (~out['valid'][:5, :7]).all() and out['valid'][5:].all()
    assert (out['pred'][5:] < 19).all()
    assert sum(calls) == 2  # windows at x = 0 and 6
    img[:] = -10000
    calls.clear()
    empty = inf.predict_array(SITSArraySource(img, DOY))
    assert (empty['pred'] == 255).all() and calls == []


def test_uniform_and_gaussian_stitching_by_hand():
    """Replace the network by one window -> constant output k (its order
    in the grid): on a 24 x 40 scene with windows at x = 0 and 16, a pixel
    at x = 20 gets (0 + 1) / 2 uniformly, and with the Gaussian weights
    w(x) = exp(-(x - 11.5)^2 / 72) the mean (w(20) * 0 + w(4) * 1) /
    (w(20) + w(4))."""
    torch.manual_seed(0)
    model = init_model(_cfg('tsvit/tsvit_1xb48-100e_pastis24-24x24.py',
                            decode_head=dict(in_channels=16)))
    img = _scene(24, 40)
    res = {}
    for weighting in ('uniform', 'gaussian'):
        inf = SITSInferencer(model, weighting=weighting, batch_size=1)
        count = iter(range(10))

        def fake(x):
            out = np.zeros((len(x), 19, 24, 24), np.float32)
            out[:, 0] = next(count)
            return out

        inf.forward = fake
        res[weighting] = inf.predict_array(SITSArraySource(img, DOY))
    uni = res['uniform']['seg_logits'][0]
    assert uni[7, 10] == 0 and uni[7, 30] == 1 and uni[7, 20] == 0.5
    g = res['gaussian']['seg_logits'][0]

    def w(x):
        return np.exp(-(x - 11.5)**2 / 72)

    # row 11 vs 12 have the same row weight in both windows: it cancels
    assert g[11, 20] == pytest.approx(w(4) / (w(20) + w(4)), rel=1e-5)
    assert g[11, 10] == 0 and g[11, 30] == 1


def test_cam_model_returns_weak_maps():
    """Exact stage 1: CB-CAMs behind the background theta; with image
    labels the windows are gated by them (= the model's own prediction
    with those labels), without by the classes it predicts."""
    torch.manual_seed(0)
    cfg = _cfg('exact/exact_tsvit_1xb48-20e_pastis24-24x24.py',
               decode_head=dict(in_channels=16))
    model = init_model(cfg)
    img = _scene(24, 24, seed=3)
    out = inference_sits(model, img, DOY, image_labels=[2, 5],
                         bg_threshold=0.3)
    assert out['scores'].shape == (19, 24, 24)
    np.testing.assert_array_equal(out['scores'][0], np.float32(0.3))
    present = out['scores'][1:].reshape(18, -1).max(1) > 0
    assert not present[[0, 2, 3, 5]].any()  # only classes 2 and 5
    res = dict(img=img.copy(), doy=DOY.copy())
    for step in sits_pipeline(6)[1:-1]:
        res = TRANSFORMS.build(step)(res)
    x = torch.from_numpy(res['img'])[None]
    sample = BaseDataElement()
    lab = torch.zeros(18)
    lab[[1, 4]] = 1
    sample.set_field(lab, 'gt_cls_label')
    sample.set_metainfo(dict(img_shape=(24, 24), ori_shape=(24, 24)))
    assert model.decode_head.bg_threshold == 0.35  # model left unchanged
    model.decode_head.bg_threshold = 0.3
    with torch.no_grad():
        ref = model.predict(x, [sample])[0].seg_logits.data.numpy()
        free = model.predict(x)[0].seg_logits.data.numpy()
    model.decode_head.bg_threshold = 0.35
    np.testing.assert_allclose(out['seg_logits'], ref, atol=1e-6)
    pred = inference_sits(model, img, DOY, bg_threshold=0.3)
    np.testing.assert_allclose(pred['seg_logits'], free, atol=1e-6)
    with pytest.raises(ValueError, match='foreground class 1..18'):
        inference_sits(model, img, DOY, image_labels=[19])


def test_array_errors():
    torch.manual_seed(0)
    model = init_model(_cfg('tsvit/tsvit_1xb48-100e_pastis24-24x24.py',
                            decode_head=dict(in_channels=16)))
    img = _scene(24, 24, t=7)
    doy = np.arange(1, 8) * 30
    with pytest.raises(SITSDataError, match='array: 7 dates, the model '
                       'takes at most 6'):
        inference_sits(model, img, doy)
    with pytest.raises(SITSDataError, match='5 frames but 4 dates'):
        inference_sits(model, img[:5], doy[:4])
    bad = img[:5].copy()
    bad[0, 0, 0, 0] = np.nan
    with pytest.raises(SITSDataError, match='non-finite'):
        inference_sits(model, bad, DOY)
    with pytest.raises(SITSDataError, match='3 bands, the model takes 10'):
        inference_sits(model, img[:5, :3], DOY)
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        init_model(_cfg('tsvit/tsvit_1xb48-100e_pastis24-24x24.py'),
                   'nope.pth')


def test_fully_convolutional_baseline_needs_a_window():
    """U-TAE has no fixed input size: the window must be given; with it
    the map equals slide inference."""
    torch.manual_seed(0)
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'utae',
                                   'utae_1xb48-100e_pastis24-24x24.py'))
    cfg.test_dataloader.dataset.pipeline = sits_pipeline(6)
    model = init_model(cfg)
    img = _scene(24, 34)
    with pytest.raises(ValueError, match='UTAE has no fixed input size: '
                       'pass window'):
        inference_sits(model, img, DOY)
    out = inference_sits(model, img, DOY, window=24, block_size=24)
    np.testing.assert_allclose(out['seg_logits'], _slide(model, img, DOY),
                               atol=1e-5)


def test_dates_as_calendar_dates():
    torch.manual_seed(0)
    model = init_model(_cfg('tsvit/tsvit_1xb48-100e_pastis24-24x24.py',
                            decode_head=dict(in_channels=16)))
    img = _scene(24, 24)
    dates = ['2019-01-15', '2019-03-01', '2019-04-30', '2019-06-29',
             '2019-08-28']  # days of year 15, 60, 120, 180, 240
    a = inference_sits(model, img, dates)
    b = inference_sits(model, img, DOY)
    assert np.array_equal(a['seg_logits'], b['seg_logits'])
