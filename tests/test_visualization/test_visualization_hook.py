# Copyright (c) mmexact contributors. All rights reserved.
"""Images reach the configured vis_backends in short runs (hook, test.py)."""
import glob
import importlib.util
import os.path as osp
import time

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner
from PIL import Image

from mmexact.testing import sits_pipeline, tiny_segmentor_cfg
from mmexact.visualization import SITSLocalVisualizer
from mmseg.registry import DATASETS, MODELS

pytestmark = pytest.mark.e2e

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _loader(root, fold):
    return dict(
        batch_size=2,
        num_workers=0,
        sampler=dict(type='DefaultSampler', shuffle=False),
        dataset=dict(
            type='PASTIS24Dataset',
            data_root=root,
            folds=(fold, ),
            pipeline=sits_pipeline(12)))


def _sample_ids(dataset):
    if isinstance(dataset, dict):
        dataset = DATASETS.build(dataset)
    return [dataset.get_data_info(i)['sample_id'] for i in range(len(dataset))]


def _tensorboard_images(log_dir):
    pytest.importorskip('tensorboard')
    from tensorboard.backend.event_processing.event_accumulator import \
        EventAccumulator
    acc = EventAccumulator(log_dir, size_guidance={'images': 0})
    acc.Reload()
    out = {}
    for tag in acc.Tags()['images']:
        (event, ) = acc.Images(tag)
        out[tag] = (event.step, np.array(
            Image.open(__import__('io').BytesIO(event.encoded_image_string))))
    return out


def test_val_images_reach_local_and_tensorboard_backends(
        tmp_path, fake_pastis24):
    pytest.importorskip('tensorboard')
    name = f'hook_{time.time_ns()}'
    cfg = Config(
        dict(
            default_scope='mmseg',
            experiment_name=name,
            work_dir=str(tmp_path),
            model=tiny_segmentor_cfg(),
            val_dataloader=_loader(fake_pastis24, 4),
            val_cfg=dict(),
            val_evaluator=dict(type='SITSIoUMetric', iou_metrics=['mIoU']),
            visualizer=dict(
                type='SITSLocalVisualizer',
                name=name,
                vis_backends=[
                    dict(type='LocalVisBackend'),
                    dict(type='TensorboardVisBackend')
                ]),
            default_hooks=dict(
                visualization=dict(
                    type='SITSVisualizationHook',
                    draw=True,
                    interval=1,
                    profile_pixel=(3, 4))),
            log_level='WARNING'))
    runner = Runner.from_cfg(cfg)
    runner.val()
    runner.visualizer.close()  # flush the event file
    ids = sorted(_sample_ids(cfg.val_dataloader.dataset))
    assert len(ids) == 4
    vis_dir = osp.join(runner.log_dir, 'vis_data')
    pngs = sorted(glob.glob(osp.join(vis_dir, 'vis_image', '*.png')))
    assert [osp.basename(p) for p in pngs] == [f'val_{i}_0.png' for i in ids]
    # RGB | GT | prediction (192 px each) | temporal profile (384 px)
    local = {osp.basename(p)[:-6]: np.array(Image.open(p)) for p in pngs}
    assert all(im.shape == (192, 3 * 192 + 384 + 3 * 4, 3)
               for im in local.values())
    # TensorBoard got the very same images, at the runner's step
    tb = _tensorboard_images(vis_dir)
    assert sorted(tb) == sorted(local)
    for tag, (step, image) in tb.items():
        assert step == 0
        np.testing.assert_array_equal(image, local[tag])


def _tool(name):
    path = osp.join(REPO, 'tools', f'{name}.py')
    spec = importlib.util.spec_from_file_location(f'_tool_{name}', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TEST_CFG = """
default_scope = 'mmseg'
model = {model!r}
test_dataloader = {loader!r}
test_cfg = dict(type='TestLoop')
test_evaluator = dict(type='SITSIoUMetric', iou_metrics=['mIoU'])
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='SegLocalVisualizer', vis_backends=vis_backends,
                  name='visualizer')
default_hooks = dict(
    visualization=dict(type='SITSVisualizationHook', draw=False))
tta_model = dict(type='SegTTAModel')
log_level = 'WARNING'
"""


@pytest.fixture(scope='module')
def tiny_test_setup(tmp_path_factory, fake_pastis24):
    tmp = tmp_path_factory.mktemp('test_tool')
    cfg = tmp / 'tiny.py'
    cfg.write_text(
        TEST_CFG.format(
            model=tiny_segmentor_cfg(), loader=_loader(fake_pastis24, 5)))
    torch.manual_seed(0)
    model = MODELS.build(tiny_segmentor_cfg()).eval()
    ckpt = tmp / 'tiny.pth'
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, ckpt)
    return str(cfg), str(ckpt), model


def _predict(model, x):
    with torch.no_grad():
        return model.predict(x[None])[0].seg_logits.data


def test_test_tool_show_dir_show_and_flip_tta(tiny_test_setup, tmp_path,
                                              monkeypatch):
    """--show-dir: images in the Local backend; --show: every image goes to
    the display; --tta: mean class probabilities of the identity,
    horizontally and vertically flipped views, each flipped back."""
    cfg, ckpt, model = tiny_test_setup
    import matplotlib
    monkeypatch.setattr(matplotlib, 'get_backend', lambda: 'TkAgg')
    shown = []
    monkeypatch.setattr(
        SITSLocalVisualizer, 'show',
        lambda self, img, win_name='', wait_time=0: shown.append(
            (win_name, img.shape, wait_time)))
    show_dir, out = tmp_path / 'show', tmp_path / 'pred'
    _tool('test').main([
        cfg, ckpt, '--work-dir', str(tmp_path / 'work'), '--out', str(out),
        '--show-dir', str(show_dir), '--show', '--wait-time', '0.5', '--tta',
        '--cfg-options', f'visualizer.name=tta_{time.time_ns()}'
    ])
    dataset = DATASETS.build(Config.fromfile(cfg).test_dataloader.dataset)
    ids = _sample_ids(dataset)
    assert len(ids) == 4
    names = sorted(f'test_{i}' for i in ids)
    assert sorted(s[0] for s in shown) == names
    assert all(s[1] == (192, 3 * 192 + 8, 3) and s[2] == 0.5 for s in shown)
    pngs = sorted(glob.glob(str(show_dir / 'vis_data' / 'vis_image' /
                                '*.png')))
    assert [osp.basename(p)[:-6] for p in pngs] == names

    changed = 0
    for i, sid in enumerate(ids):
        x = dataset[i]['inputs'].float()
        probs = (_predict(model, x).softmax(0) +
                 _predict(model, x.flip(-1)).flip(-1).softmax(0) +
                 _predict(model, x.flip(-2)).flip(-2).softmax(0)) / 3
        pred = np.array(Image.open(out / f'{sid}.png'))
        np.testing.assert_array_equal(pred, probs.argmax(0).numpy())
        changed += int((pred != _predict(model, x).argmax(0).numpy()).sum())
    assert changed > 0  # the flipped views did change some pixels


def test_show_without_a_display_is_a_clear_error(tiny_test_setup, tmp_path,
                                                 monkeypatch):
    cfg, ckpt, _ = tiny_test_setup
    import matplotlib
    monkeypatch.setattr(matplotlib, 'get_backend', lambda: 'agg')
    with pytest.raises(RuntimeError, match='--show needs an interactive'):
        _tool('test').main(
            [cfg, ckpt, '--work-dir', str(tmp_path), '--show'])


def test_hook_refuses_a_non_sits_visualizer():
    from mmexact.engine.hooks import SITSVisualizationHook

    class FakeRunner:
        visualizer = object()
        iter = 0

    hook = SITSVisualizationHook(draw=True, interval=1)
    with pytest.raises(TypeError, match="type='SITSLocalVisualizer'"):
        hook.after_val_iter(FakeRunner(), 0, dict(inputs=[]), [])
