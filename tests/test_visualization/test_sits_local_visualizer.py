# Copyright (c) mmexact contributors. All rights reserved.
"""SITSLocalVisualizer: panel contents, hand-computed pixel values."""
import numpy as np
import pytest
import torch
from mmengine.structures import PixelData

from mmexact.visualization import SITSLocalVisualizer
from mmseg.registry import VISUALIZERS
from mmseg.structures import SegDataSample

PALETTE = [[0, 0, 0], [255, 0, 0], [0, 255, 0], [0, 0, 255]]
CLASSES = ['bg', 'a', 'b', 'c']


def _vis(name, **kw):
    kw.setdefault('scale', 2)
    return SITSLocalVisualizer(
        name=name, classes=CLASSES, palette=PALETTE, alpha=1.0, **kw)


def _sits():
    """T=3 frames, 10 bands + day of year, 4 x 4 pixels."""
    x = np.zeros((3, 11, 4, 4), np.float32)
    x[:, -1] = np.array([10., 100., 0.])[:, None, None]  # frame 2: padded
    # frame 1: bands 2, 1, 0 (R, G, B) hold the ramp 0..15 in raster order
    for b in (0, 1, 2):
        x[1, b] = np.arange(16).reshape(4, 4)
    x[0, :10] = 5.  # frame 0: flat
    return x


def _panels(img, n, width, bar=0):
    """Split a side-by-side image of n panels (4-pixel white gaps)."""
    assert img.shape[1] == n * width + (n - 1) * 4
    return [img[bar:, i * (width + 4):i * (width + 4) + width]
            for i in range(n)]


def test_registered_and_defaults_to_pastis():
    vis = VISUALIZERS.build(dict(type='SITSLocalVisualizer', name='v_reg'))
    assert isinstance(vis, SITSLocalVisualizer)
    assert vis.dataset_meta['classes'][2] == 'Soft winter wheat'
    assert len(vis.dataset_meta['palette']) == 19


def test_rgb_of_the_chosen_date_and_label_overlays():
    vis = _vis('v_rgb')
    sample = SegDataSample()
    gt = torch.tensor([[[0, 1, 2, 3]] * 4])  # column j has class j
    gt[0, 0, 0] = 255  # ignored pixel: no colour, alpha 1 -> black
    sample.gt_sem_seg = PixelData(data=gt)
    sample.pred_sem_seg = PixelData(data=torch.full((1, 4, 4), 3))
    img = vis.add_datasample('s', _sits(), sample, frame=1)
    assert img.shape == (8, 3 * 8 + 2 * 4, 3)
    rgb, gt_panel, pred_panel = _panels(img, 3, 8)
    # 2-98 % stretch of 0..15: lo 0.3, hi 14.7; pixel v -> (v - .3) / 14.4
    expect = np.clip((np.arange(16) - 0.3) / 14.4, 0, 1) * 255
    expect = expect.astype(np.uint8).reshape(4, 4)
    np.testing.assert_array_equal(rgb[::2, ::2, 0], expect)
    np.testing.assert_array_equal(rgb[::2, ::2, 1], expect)
    np.testing.assert_array_equal(rgb[1::2, 1::2, 2], expect)  # upscaled
    # alpha 1: the overlay is the palette colour of every label
    np.testing.assert_array_equal(gt_panel[0, 2], [255, 0, 0])  # class 1
    np.testing.assert_array_equal(gt_panel[7, 7], [0, 0, 255])  # class 3
    np.testing.assert_array_equal(gt_panel[0, 0], [0, 0, 0])  # ignored
    assert (pred_panel == np.array([0, 0, 255], np.uint8)).all()
    # frame 0 is flat: another date, another composite
    other = vis.add_datasample('s', _sits(), sample, frame=0)
    assert (other[:, :8] == 0).all()
    # several dates: one RGB panel each, overlays over the first
    two = vis.add_datasample('s', _sits(), sample, frame=[1, 0])
    first, second, gt_two, _ = _panels(two, 4, 8)
    np.testing.assert_array_equal(first, rgb)
    assert (second == 0).all()
    np.testing.assert_array_equal(gt_two, gt_panel)
    with pytest.raises(ValueError, match='frames \\[3\\] do not exist'):
        vis.add_datasample('s', _sits(), sample, frame=[0, 3])
    # draw_pred=False drops the prediction panel
    assert vis.add_datasample('s', _sits(), sample, draw_pred=False,
                              frame=1).shape == (8, 2 * 8 + 4, 3)


def test_cam_panels_from_seg_logits():
    vis = _vis('v_cam', cam_strip_rows=1)
    sample = SegDataSample()
    logits = torch.zeros(4, 4, 4)  # channel 0: background threshold
    logits[1] = 1. / 3  # heatmap value 1/3 -> pure red
    logits[3] = 1.  # -> white
    sample.seg_logits = PixelData(data=logits)
    sample.gt_cls_label = torch.tensor([1., 0., 1.])  # classes 0 and 2
    img = vis.add_datasample('s', _sits(), sample, frame=1, draw_cams=True)
    # RGB + two CAMs, each with a 2-pixel bar (1 row x scale 2)
    assert img.shape == (10, 3 * 8 + 2 * 4, 3)
    bars = _panels(img[:2], 3, 8)
    cams = _panels(img[2:], 3, 8)
    assert (bars[0] == 255).all()  # white bar over the RGB
    assert (bars[1] == np.array(PALETTE[1], np.uint8)).all()  # class 0
    assert (bars[2] == np.array(PALETTE[3], np.uint8)).all()  # class 2
    assert (cams[1] == np.array([255, 0, 0], np.uint8)).all()
    assert (cams[2] == 255).all()
    # explicit classes; a sample without CAMs or logits cannot draw them
    one = vis.add_datasample('s', _sits(), sample, frame=1, draw_cams=True,
                             cam_classes=[1])
    assert (_panels(one[2:], 2, 8)[1] == 0).all()  # CAM of class 1 is 0
    with pytest.raises(KeyError, match='seg_logits'):
        vis.add_datasample('s', _sits(), SegDataSample(), draw_cams=True)


def test_temporal_profile_panel_and_marker():
    vis = _vis('v_prof', scale=8)
    img = vis.add_datasample('s', _sits(), None, frame=1,
                             profile_pixel=(1, 2))
    assert img.shape == (32, 32 + 4 + 64, 3)
    rgb, profile = img[:, :32], img[:, 36:]
    # the pixel (1, 2) is outlined white inside, black around
    assert (rgb[8, 16:24] == 255).all() and (rgb[8:16, 23] == 255).all()
    assert (rgb[7, 15:25] == 0).all()
    # a real chart: mostly white background and not blank
    assert 0.5 < (profile == 255).all(axis=-1).mean() < 1.0
    with pytest.raises(ValueError, match='outside the 4 x 4 window'):
        vis.add_datasample('s', _sits(), None, profile_pixel=(4, 0))
    with pytest.raises(ValueError, match='RGB image'):
        vis.add_datasample('s', np.zeros((4, 4, 3), np.uint8), None,
                           profile_pixel=(0, 0))


def test_backends_and_out_file(tmp_path):
    vis = SITSLocalVisualizer(
        name='v_backend', save_dir=str(tmp_path / 'root'),
        vis_backends=[dict(type='LocalVisBackend')], scale=2)
    drawn = vis.add_datasample('win_a', _sits(), None, frame=1, step=7)
    from PIL import Image
    saved = np.array(
        Image.open(tmp_path / 'root' / 'vis_data' / 'vis_image' /
                   'win_a_7.png'))
    np.testing.assert_array_equal(saved, drawn)
    out = tmp_path / 'single.png'
    vis.add_datasample('win_b', _sits(), None, frame=1, out_file=str(out))
    np.testing.assert_array_equal(np.array(Image.open(out)), drawn)
    assert not (tmp_path / 'root' / 'vis_data' / 'vis_image' /
                'win_b_0.png').exists()
