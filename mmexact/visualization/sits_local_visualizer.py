# Copyright (c) mmexact contributors. All rights reserved.
from typing import List, Optional, Sequence, Tuple, Union

import mmcv
import numpy as np
import torch
from mmengine.dist import master_only
from mmengine.structures import PixelData

from mmseg.registry import VISUALIZERS
from mmseg.structures import SegDataSample
from mmseg.visualization import SegLocalVisualizer
from ..datasets.pastis_meta import PASTIS_CLASSES, PASTIS_PALETTE
from ..structures import S2_BANDS
from .sits_render import heatmap, hstack_panels, pick_frame, rgb_composite
from .temporal_profile import temporal_profile

__all__ = ['SITSLocalVisualizer', 'require_display']

# matplotlib backends that only render to files
_FILE_BACKENDS = ('agg', 'pdf', 'ps', 'svg', 'cairo', 'pgf', 'template')


def require_display(option: str = '--show') -> None:
    """Raise a clear error when matplotlib cannot open a window.

    ``Visualizer.show`` draws with matplotlib; under a file-only backend
    (no display) it cannot show anything.
    """
    import matplotlib
    backend = matplotlib.get_backend().lower()
    if backend in _FILE_BACKENDS:
        raise RuntimeError(
            f'{option} needs an interactive matplotlib backend (a display); '
            f'the current one is {backend!r}. Write the images to files '
            'instead (the visualizer backends, e.g. --show-dir / --out-dir)')

ArrayLike = Union[np.ndarray, torch.Tensor]


def _numpy(x: ArrayLike) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().float().numpy()
    return np.asarray(x)


def _upscale(img: np.ndarray, scale: int) -> np.ndarray:
    """Nearest-neighbour upscaling of the first two axes."""
    return np.repeat(np.repeat(img, scale, axis=0), scale, axis=1)


@VISUALIZERS.register_module()
class SITSLocalVisualizer(SegLocalVisualizer):
    """mmseg's ``SegLocalVisualizer`` for satellite image time series.

    A SITS sample is not an image: this visualizer draws a packed sample
    (T, C + 1, H, W) (last channel = day of year, 0 for padded frames) as
    side-by-side panels, nearest-upscaled by ``scale``:

    1. the RGB composite of one date (``frame``, or the clearest valid date),
       percentile-stretched, or one panel per date for a list of frames;
    2. the ground truth and 3. the prediction, drawn over the RGB by
       mmseg's own ``_draw_sem_seg`` (``alpha`` blending, optional class
       names), over the RGB of the first date shown;
    4. CAM heat maps, one per class, each under a bar in the class colour
       (from the sample's ``cams`` field, or with ``draw_cams=True`` from
       ``seg_logits`` channels 1.. as CAM segmentors write them);
    5. the temporal profile of one pixel (``profile_pixel``), whose
       position is marked on the first RGB panel and whose plot marks the
       dates shown.

    The result goes, like every mmengine visualizer's, to all configured
    ``vis_backends`` (``LocalVisBackend``, ``TensorboardVisBackend``,
    ``WandbVisBackend``, ...) through :meth:`add_image`, or to ``out_file``,
    and to a window with ``show=True``. Without ``classes`` / ``palette`` /
    ``dataset_name`` the PASTIS classes and palette are used; the Runner
    replaces them by the dataset's ``metainfo``.

    Args:
        name (str): Instance name. Defaults to 'visualizer'.
        image (np.ndarray, optional): Initial RGB image.
        vis_backends (list[dict], optional): Visualisation backends.
        save_dir (str, optional): Root directory of the backends.
        classes (list[str], optional): Class names.
        palette (list, optional): Class colours.
        dataset_name (str, optional): mmseg dataset name for classes and
            palette.
        alpha (float): Opacity of the label overlays. Defaults to 0.8.
        rgb_bands (Sequence[int]): Band indices shown as R, G, B. Defaults
            to (2, 1, 0) (B4, B3, B2 in PASTIS order).
        frame (int | Sequence[int], optional): Default date(s) shown as
            RGB (default: the clearest valid date of each sample).
        scale (int): Upscaling factor of the panels. Defaults to 8.
        with_labels (bool): Write class names on the overlays. Defaults to
            False (24 x 24 windows are too small for them).
        profile_bands (Sequence[int]): Bands of the temporal profile.
            Defaults to (0, 1, 2, 6) (B2, B3, B4, B8).
        band_names (Sequence[str], optional): Names of all bands (legend).
            Defaults to the Sentinel-2 bands of PASTIS when the sample has
            10 bands.
        cam_strip_rows (int): Height of the class-colour bar over CAM
            panels, in window pixels. Defaults to 2.
    """

    def __init__(self,
                 name: str = 'visualizer',
                 image: Optional[np.ndarray] = None,
                 vis_backends: Optional[List[dict]] = None,
                 save_dir: Optional[str] = None,
                 classes: Optional[List[str]] = None,
                 palette: Optional[List[List[int]]] = None,
                 dataset_name: Optional[str] = None,
                 alpha: float = 0.8,
                 rgb_bands: Sequence[int] = (2, 1, 0),
                 frame: Optional[Union[int, Sequence[int]]] = None,
                 scale: int = 8,
                 with_labels: bool = False,
                 profile_bands: Sequence[int] = (0, 1, 2, 6),
                 band_names: Optional[Sequence[str]] = None,
                 cam_strip_rows: int = 2,
                 **kwargs) -> None:
        if dataset_name is None:
            classes = classes or list(PASTIS_CLASSES)
            palette = palette or [list(c) for c in PASTIS_PALETTE]
        super().__init__(name, image, vis_backends, save_dir, classes,
                         palette, dataset_name, alpha, **kwargs)
        # mmseg 1.2.2's __init__ passes (palette, classes) to
        # set_dataset_meta(classes, palette): set them in the right order
        self.set_dataset_meta(classes, palette, dataset_name)
        self.rgb_bands = tuple(rgb_bands)
        self.frame = frame
        self.scale = int(scale)
        self.with_labels = with_labels
        self.profile_bands = tuple(profile_bands)
        self.band_names = band_names
        self.cam_strip_rows = cam_strip_rows

    # ------------------------------------------------------------------
    def _band_names(self, num_bands: int) -> Optional[Sequence[str]]:
        if self.band_names is not None:
            return self.band_names
        return S2_BANDS if num_bands == len(S2_BANDS) else None

    def _labels_panel(self, rgb: np.ndarray, labels: PixelData) -> np.ndarray:
        """Overlay an (1, H, W) label map on the upscaled RGB (mmseg)."""
        data = _numpy(labels.data)[0]
        data = data[:rgb.shape[0] // self.scale, :rgb.shape[1] // self.scale]
        up = PixelData(data=torch.from_numpy(
            _upscale(data.astype(np.int64), self.scale))[None])
        classes = self.dataset_meta['classes']
        palette = self.dataset_meta['palette']
        return self._draw_sem_seg(rgb, up, classes, palette, self.with_labels)

    def _mark_pixel(self, rgb: np.ndarray, pixel: Tuple[int, int]) -> None:
        """Outline window pixel ``pixel`` on the upscaled RGB, in place."""
        s = self.scale
        y0, x0 = pixel[0] * s, pixel[1] * s
        y1, x1 = y0 + s - 1, x0 + s - 1
        for color, grow in (((0, 0, 0), 1), ((255, 255, 255), 0)):
            ya, xa = max(y0 - grow, 0), max(x0 - grow, 0)
            yb = min(y1 + grow, rgb.shape[0] - 1)
            xb = min(x1 + grow, rgb.shape[1] - 1)
            rgb[ya, xa:xb + 1] = color
            rgb[yb, xa:xb + 1] = color
            rgb[ya:yb + 1, xa] = color
            rgb[ya:yb + 1, xb] = color

    @staticmethod
    def _cam_maps(data_sample: SegDataSample,
                  draw_cams: bool) -> Optional[np.ndarray]:
        """CAMs (K, H, W) of a sample: its ``cams`` or ``seg_logits[1:]``."""
        if 'cams' in data_sample:
            return _numpy(data_sample.cams.data)
        if draw_cams:
            if 'seg_logits' not in data_sample:
                raise KeyError('draw_cams=True needs samples with "cams" or '
                               '"seg_logits" (a CAM segmentor\'s output)')
            return _numpy(data_sample.seg_logits.data)[1:]
        return None

    @staticmethod
    def _cam_classes(data_sample: SegDataSample,
                     cams: np.ndarray) -> List[int]:
        """0-based classes to draw: the image labels, else non-zero CAMs."""
        if 'gt_cls_label' in data_sample:
            present = _numpy(data_sample.gt_cls_label) > 0
        else:
            present = cams.reshape(len(cams), -1).max(axis=1) > 0
        return np.flatnonzero(present).tolist()

    # ------------------------------------------------------------------
    def draw_sits_sample(self,
                         image: ArrayLike,
                         data_sample: Optional[SegDataSample] = None,
                         draw_gt: bool = True,
                         draw_pred: bool = True,
                         frame: Optional[Union[int, Sequence[int]]] = None,
                         draw_cams: bool = False,
                         cam_classes: Optional[Sequence[int]] = None,
                         profile_pixel: Optional[Tuple[int, int]] = None
                         ) -> np.ndarray:
        """Compose the panels of one sample (see the class docstring).

        Args:
            image (np.ndarray | Tensor): Packed SITS sample (T, C + 1, H, W)
                or an RGB image (H, W, 3) uint8.
            data_sample (SegDataSample, optional): ``gt_sem_seg``,
                ``pred_sem_seg``, ``cams`` / ``seg_logits``,
                ``gt_cls_label``, all (…, H, W) at window size.
            draw_gt (bool): Draw the ground truth. Defaults to True.
            draw_pred (bool): Draw the prediction. Defaults to True.
            frame (int | Sequence[int], optional): Date(s) shown as RGB, one
                panel each (default: the visualizer's ``frame``, else the
                clearest valid date).
            draw_cams (bool): Draw CAMs from ``seg_logits`` channels 1..
                when the sample has no ``cams``. Defaults to False.
            cam_classes (Sequence[int], optional): 0-based classes whose
                CAMs are drawn (default: the image labels, else every class
                with a non-zero CAM).
            profile_pixel (tuple[int, int], optional): (row, column) of the
                pixel whose time series is plotted.

        Returns:
            np.ndarray: uint8 RGB image, height ``H * scale`` (plus the CAM
            bars), panels separated by 4 white columns.
        """
        img = _numpy(image)
        frame = self.frame if frame is None else frame
        frames = list(frame) if isinstance(frame, (list, tuple)) else [frame]
        if img.ndim == 4:
            bad = [f for f in frames
                   if f is not None and not -len(img) <= f < len(img)]
            if bad:
                raise ValueError(f'frames {bad} do not exist: the sample has '
                                 f'{len(img)} frames')
            frames = [pick_frame(img, f, self.rgb_bands) for f in frames]
            rgbs = [rgb_composite(img, f, self.rgb_bands) for f in frames]
        elif img.ndim == 3 and img.shape[-1] == 3:
            rgbs, frames = [img.astype(np.uint8)], []
            if profile_pixel is not None:
                raise ValueError('a temporal profile needs the SITS sample '
                                 '(T, C + 1, H, W), not an RGB image')
        else:
            raise ValueError('expected a packed SITS sample (T, C + 1, H, W) '
                             f'or an RGB image (H, W, 3), got shape '
                             f'{tuple(img.shape)}')
        if data_sample is not None and 'img_shape' in data_sample:
            h, w = data_sample.img_shape[:2]
            rgbs = [r[:h, :w] for r in rgbs]
        rgb = rgbs[0]
        rgb_up = _upscale(rgb, self.scale)
        first = rgb_up.copy()
        if profile_pixel is not None:
            row, col = profile_pixel
            if not (0 <= row < rgb.shape[0] and 0 <= col < rgb.shape[1]):
                raise ValueError(
                    f'profile pixel {tuple(profile_pixel)} lies outside the '
                    f'{rgb.shape[0]} x {rgb.shape[1]} window')
            self._mark_pixel(first, profile_pixel)
        panels = [first] + [_upscale(r, self.scale) for r in rgbs[1:]]
        bars = [None] * len(panels)
        cams = None
        if data_sample is not None:
            if draw_gt and 'gt_sem_seg' in data_sample:
                panels.append(self._labels_panel(rgb_up,
                                                 data_sample.gt_sem_seg))
                bars.append(None)
            if draw_pred and 'pred_sem_seg' in data_sample:
                panels.append(self._labels_panel(rgb_up,
                                                 data_sample.pred_sem_seg))
                bars.append(None)
            cams = self._cam_maps(data_sample, draw_cams)
        if cams is not None:
            palette = self.dataset_meta['palette']
            if cam_classes is None:
                cam_classes = self._cam_classes(data_sample, cams)
            for c in cam_classes:
                cam = cams[c, :rgb.shape[0], :rgb.shape[1]]
                panels.append(_upscale(heatmap(cam), self.scale))
                bars.append(palette[c + 1])
        if profile_pixel is not None:
            h_up = rgb_up.shape[0]
            panels.append(
                temporal_profile(
                    img,
                    profile_pixel,
                    self.profile_bands,
                    self._band_names(img.shape[1] - 1),
                    size=(h_up, 2 * h_up),
                    mark_frames=frames))
            bars.append(None)
        if cams is not None:
            rows = self.cam_strip_rows * self.scale
            panels = [
                np.concatenate([
                    np.broadcast_to(
                        np.asarray(bar or (255, 255, 255), np.uint8),
                        (rows, p.shape[1], 3)), p
                ]) for p, bar in zip(panels, bars)
            ]
        drawn = hstack_panels(panels, scale=1)
        self.set_image(drawn)
        return drawn

    @master_only
    def add_datasample(self,
                       name: str,
                       image: ArrayLike,
                       data_sample: Optional[SegDataSample] = None,
                       draw_gt: bool = True,
                       draw_pred: bool = True,
                       show: bool = False,
                       wait_time: float = 0,
                       out_file: Optional[str] = None,
                       step: int = 0,
                       with_labels: Optional[bool] = None,
                       frame: Optional[Union[int, Sequence[int]]] = None,
                       draw_cams: bool = False,
                       cam_classes: Optional[Sequence[int]] = None,
                       profile_pixel: Optional[Tuple[int, int]] = None
                       ) -> np.ndarray:
        """Draw a SITS sample and send it to the backends (or a file).

        Same contract as ``SegLocalVisualizer.add_datasample``: with
        ``show`` the image is also displayed; with ``out_file`` it is
        written there instead of to the backends. See
        :meth:`draw_sits_sample` for the other arguments.

        Args:
            name (str): Image identifier (file name stem of the Local
                backend, tag of TensorBoard / W&B).
            step (int): Global step recorded by the backends.
            with_labels (bool, optional): Override of ``with_labels``.

        Returns:
            np.ndarray: The drawn RGB image.
        """
        saved = self.with_labels
        if with_labels is not None:
            self.with_labels = with_labels
        try:
            drawn = self.draw_sits_sample(image, data_sample, draw_gt,
                                          draw_pred, frame, draw_cams,
                                          cam_classes, profile_pixel)
        finally:
            self.with_labels = saved
        if show:
            self.show(drawn, win_name=name, wait_time=wait_time)
        if out_file is not None:
            mmcv.imwrite(mmcv.rgb2bgr(drawn), out_file)
        else:
            self.add_image(name, drawn, step)
        return drawn
