# Copyright (c) mmexact contributors. All rights reserved.
"""CAMs and the threshold sweep stream over the data (constant memory)."""
import gc
import weakref

import pytest
import torch
from mmengine.config import Config

from mmexact.apis import build_cam_dataloader, iter_cams
from mmexact.evaluation import ThresholdSweep
from mmexact.testing import TINY_BACKBONE, make_fake_pastis, sits_pipeline
from mmseg.registry import MODELS

pytestmark = pytest.mark.e2e


def test_cams_for_2000_windows_are_not_held(tmp_path):
    root = make_fake_pastis(str(tmp_path), num_patches=56, size=48,
                            num_frames=(4, 5), seed=3)
    cfg = Config.fromfile('configs/exact/exact_tsvit_pastis.py')
    cfg.model.backbone.update(TINY_BACKBONE, img_size=8)
    cfg.model.decode_head.in_channels = 16
    cfg.test_dataloader.dataset = dict(
        type='PASTISDataset', data_root=root, folds=(1, 2, 3, 4, 5),
        window_size=8, window_stride=8, pipeline=sits_pipeline(5))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model).eval()
    loader = build_cam_dataloader(cfg, 'test', batch_size=96, num_workers=0)
    assert len(loader.dataset) == 56 * 36 == 2016
    sweep, refs, seen = ThresholdSweep(), [], 0
    hist_bytes = sweep.hist.numel() * sweep.hist.element_size()
    for out in iter_cams(model, loader, progress=False):
        refs.append(weakref.ref(out['scores']))
        seen += out['scores'].shape[0]
        sweep.update(out['scores'], out['gt'])
        del out
        gc.collect()
        # only the batch being processed may be alive, never the earlier
        assert sum(r() is not None for r in refs) <= 1
    assert seen == 2016
    assert sweep.hist.numel() * sweep.hist.element_size() == hist_bytes
    res = sweep.compute()
    assert res['num_pixels'] > 0.9 * 2016 * 64  # void pixels excluded
    assert res['miou'].shape == (60, )
