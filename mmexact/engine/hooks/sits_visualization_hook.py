# Copyright (c) mmexact contributors. All rights reserved.
import os
import os.path as osp
from typing import Optional, Sequence

import numpy as np
from mmengine.hooks import Hook
from PIL import Image

from mmseg.registry import HOOKS
from mmexact.visualization import (colorize_labels, hstack_panels, overlay,
                                   rgb_composite)

__all__ = ['SITSVisualizationHook']


@HOOKS.register_module()
class SITSVisualizationHook(Hook):
    """Write, per sample, [RGB of one date | ground truth | prediction].

    mmseg's ``SegVisualizationHook`` re-reads ``img_path`` as an image file,
    which fails for SITS files (pickles, ``.npy`` patches). This hook renders
    from the packed inputs instead: a percentile-stretched RGB composite of
    one date, and the label maps overlaid on it, upscaled for viewing.
    ``tools/test.py --show-dir DIR`` enables it in test mode.

    Args:
        draw (bool): Enable drawing. Defaults to False.
        interval (int): Draw every ``interval`` validation batches.
        out_dir (str, optional): Output directory for test images
            (validation images go to ``<log_dir>/vis_val/<iter>``).
        frame (int, optional): Frame to show (default: middle valid frame).
        rgb_bands (Sequence[int]): Bands for R, G, B. Defaults to (2, 1, 0).
        scale (int): Nearest-neighbour upscaling factor. Defaults to 8.
        show (bool): Unused (no display); kept for mmseg compatibility.
        wait_time (float): Unused; kept for mmseg compatibility.
    """

    priority = 'NORMAL'

    def __init__(self,
                 draw: bool = False,
                 interval: int = 50,
                 out_dir: Optional[str] = None,
                 frame: Optional[int] = None,
                 rgb_bands: Sequence[int] = (2, 1, 0),
                 scale: int = 8,
                 show: bool = False,
                 wait_time: float = 0.) -> None:
        self.draw = draw
        self.interval = interval
        self.out_dir = out_dir
        self.frame = frame
        self.rgb_bands = tuple(rgb_bands)
        self.scale = scale

    def _palette(self, runner) -> list:
        meta = getattr(runner.visualizer, 'dataset_meta', None) or {}
        if not meta.get('palette'):
            from mmexact.datasets.pastis_meta import PASTIS_PALETTE
            return PASTIS_PALETTE
        return meta['palette']

    def _render(self, runner, data_batch: dict, outputs, out_dir: str):
        os.makedirs(out_dir, exist_ok=True)
        palette = self._palette(runner)
        for inputs, sample in zip(data_batch['inputs'], outputs):
            x = inputs.detach().cpu().float().numpy()
            rgb = rgb_composite(x, self.frame, self.rgb_bands)
            panels = [rgb]
            if 'gt_sem_seg' in sample:
                gt = sample.gt_sem_seg.data[0].cpu().numpy()
                panels.append(overlay(rgb, colorize_labels(gt, palette)))
            if 'pred_sem_seg' in sample:
                pred = sample.pred_sem_seg.data[0].cpu().numpy()
                panels.append(overlay(rgb, colorize_labels(pred, palette)))
            name = sample.metainfo.get('sample_id') or osp.splitext(
                osp.basename(sample.metainfo.get('img_path', 'sample')))[0]
            Image.fromarray(hstack_panels(panels, self.scale)).save(
                osp.join(out_dir, f'{name}.png'))

    def after_val_iter(self, runner, batch_idx: int, data_batch: dict,
                       outputs) -> None:
        if self.draw and self.every_n_inner_iters(batch_idx, self.interval):
            out_dir = osp.join(runner.log_dir, 'vis_val', str(runner.iter))
            self._render(runner, data_batch, outputs, out_dir)

    def after_test_iter(self, runner, batch_idx: int, data_batch: dict,
                        outputs) -> None:
        if self.draw:
            out_dir = self.out_dir or osp.join(runner.log_dir, 'vis_test')
            self._render(runner, data_batch, outputs, out_dir)
