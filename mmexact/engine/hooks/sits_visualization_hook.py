# Copyright (c) mmexact contributors. All rights reserved.
import os.path as osp
from typing import Optional, Sequence, Tuple

from mmengine.hooks import Hook

from mmseg.registry import HOOKS
from mmseg.structures import SegDataSample
from mmexact.visualization import SITSLocalVisualizer

__all__ = ['SITSVisualizationHook']


@HOOKS.register_module()
class SITSVisualizationHook(Hook):
    """Draw validation / test samples through the runner's visualizer.

    The SITS counterpart of mmseg's ``SegVisualizationHook``, which re-reads
    ``img_path`` as an image file (impossible for pickles or ``.npy``
    patches). This hook hands the packed inputs and the model's output to
    the runner's :class:`~mmexact.visualization.SITSLocalVisualizer`, so
    every configured ``vis_backends`` entry (Local, TensorBoard, W&B) gets
    the image ``<mode>_<sample_id>`` at the current iteration: the RGB of
    one date, ground truth and prediction overlays, optionally the CAMs and
    the temporal profile of a pixel. ``tools/test.py --show-dir DIR`` turns
    it on in test mode and points the backends at ``DIR``; ``--show``
    displays the images.

    Args:
        draw (bool): Enable drawing. Defaults to False.
        interval (int): Draw every ``interval`` validation batches.
            Defaults to 50.
        test_interval (int): Draw every ``test_interval`` test batches.
            Defaults to 1 (every test sample).
        show (bool): Also display every image (needs an interactive
            matplotlib backend). Defaults to False.
        wait_time (float): Seconds each displayed image stays (0: until a
            key is pressed). Defaults to 0.
        frame (int, optional): Date shown as RGB (default: the visualizer's
            choice, the clearest valid date).
        draw_cams (bool): Draw CAM heat maps from ``seg_logits`` (CAM
            segmentors). Defaults to False.
        profile_pixel (tuple[int, int], optional): (row, column) whose time
            series is plotted. Defaults to None (no profile).
    """

    priority = 'NORMAL'

    def __init__(self,
                 draw: bool = False,
                 interval: int = 50,
                 test_interval: int = 1,
                 show: bool = False,
                 wait_time: float = 0.,
                 frame: Optional[int] = None,
                 draw_cams: bool = False,
                 profile_pixel: Optional[Sequence[int]] = None) -> None:
        self.draw = draw
        self.interval = interval
        self.test_interval = test_interval
        self.show = show
        self.wait_time = wait_time
        self.frame = frame
        self.draw_cams = draw_cams
        self.profile_pixel: Optional[Tuple[int, int]] = (
            None if profile_pixel is None else
            (int(profile_pixel[0]), int(profile_pixel[1])))

    @staticmethod
    def _visualizer(runner) -> SITSLocalVisualizer:
        vis = runner.visualizer
        if not isinstance(vis, SITSLocalVisualizer):
            raise TypeError(
                'SITSVisualizationHook draws through a SITSLocalVisualizer, '
                f'but the runner\'s visualizer is {type(vis).__name__}: set '
                "visualizer = dict(type='SITSLocalVisualizer', "
                'vis_backends=...) in the config')
        return vis

    @staticmethod
    def _name(sample: SegDataSample, mode: str, index: int) -> str:
        name = sample.metainfo.get('sample_id')
        if name is None:
            path = sample.metainfo.get('img_path')
            name = osp.splitext(osp.basename(path))[0] if path else index
        return f'{mode}_{name}'

    def _draw(self, runner, batch_idx: int, data_batch: dict,
              outputs: Sequence[SegDataSample], mode: str) -> None:
        vis = self._visualizer(runner)
        inputs = data_batch['inputs']
        if len(inputs) and isinstance(inputs[0], (list, tuple)):
            # test-time augmentation: one list per view, the first is the
            # identity view of the default SITS TTA pipeline
            inputs = inputs[0]
        for i, (sits, sample) in enumerate(zip(inputs, outputs)):
            vis.add_datasample(
                self._name(sample, mode, batch_idx * len(outputs) + i),
                sits,
                data_sample=sample,
                show=self.show,
                wait_time=self.wait_time,
                step=runner.iter,
                frame=self.frame,
                draw_cams=self.draw_cams,
                profile_pixel=self.profile_pixel)

    def after_val_iter(self, runner, batch_idx: int, data_batch: dict,
                       outputs: Sequence[SegDataSample]) -> None:
        if self.draw and self.every_n_inner_iters(batch_idx, self.interval):
            self._draw(runner, batch_idx, data_batch, outputs, 'val')

    def after_test_iter(self, runner, batch_idx: int, data_batch: dict,
                        outputs: Sequence[SegDataSample]) -> None:
        if self.draw and self.every_n_inner_iters(batch_idx,
                                                  self.test_interval):
            self._draw(runner, batch_idx, data_batch, outputs, 'test')
