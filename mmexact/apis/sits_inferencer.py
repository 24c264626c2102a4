# Copyright (c) mmexact contributors. All rights reserved.
"""Windowed, streaming inference of SITS segmentation models on scenes of
any size (the engine behind :func:`inference_sits` and ``tools/infer.py``).

A scene is read block by block through a *source* (an in-memory array or
GeoTIFF files, see :mod:`mmexact.geo`); every block is covered by windows
of the model's input size laid out exactly like
``SITSEncoderDecoder.slide_inference`` (same grid, same order), whose
scores are stitched by weighted averaging. Windows shared by two blocks are
computed once and kept until their last block is done, so nothing is
computed twice. Memory depends on the block size (the input of a block:
at most T x C x (block + 2 window)^2 floats) and, through the window
outputs kept along a block-row seam (width / stride x K x window^2
floats), linearly on the scene width only.
"""
import copy
import math
from dataclasses import dataclass
from logging import WARNING
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.structures import BaseDataElement
from mmengine.utils import ProgressBar

from mmseg.registry import DATASETS, TRANSFORMS
from ..structures import NODATA, SITSDataError, canonical_band
from ..utils.data_contract import doy_outside_training

__all__ = [
    'SITSArraySource', 'SITSBlock', 'SITSInferencer', 'config_dataset_meta',
    'model_bands', 'window_starts'
]

# Transforms of a test pipeline that act on each pixel (or on the date
# axis) alone: they can be applied to many windows at once.
_POINTWISE = ('NormalizeSITS', 'PadOrCutSequence', 'AppendDayOfYear')
# Transforms that read files, make labels or pack samples: replaced by the
# source and by the batching here (CAM gating: ``image_labels``).
_SKIPPED = ('LoadSITSSample', 'GenerateImageLabels', 'PackSITSInputs',
            'LoadImageFromFile', 'LoadAnnotations', 'PackSegInputs')


def model_bands(model: torch.nn.Module,
                in_channels: Optional[int] = None) -> Tuple[str, ...]:
    """Band order of a model, from what it was trained on.

    In order of precedence: the ``bands`` of the checkpoint's data
    contract (``model.data_contract``, see :func:`mmexact.apis.init_model`);
    a top-level ``bands`` list of the model's config (``model.cfg``); the
    ``bands`` of ``model.dataset_meta`` (the dataset metainfo saved in its
    checkpoint, or else the metainfo of its config's dataset class). A
    config ``bands`` that disagrees with the contract is refused, never
    reordered. The band order is never guessed.

    Args:
        model (torch.nn.Module): A model from :func:`init_model` (with
            ``cfg`` and ``dataset_meta``).
        in_channels (int, optional): Bands the model takes, checked against
            the band list when given.

    Returns:
        tuple[str]: Canonical band names in the model's channel order.

    Raises:
        ValueError: If none gives the bands, they are not ``in_channels``
        Sentinel-2 band names, or the config's and the contract's differ.
    """
    return _model_bands(model, in_channels)[0]


def _model_bands(model: torch.nn.Module,
                 in_channels: Optional[int] = None
                 ) -> Tuple[Tuple[str, ...], str]:
    """:func:`model_bands` and where they came from (for messages)."""
    cfg = getattr(model, 'cfg', None)
    contract = getattr(model, 'data_contract', None) or {}
    cfg_bands = cfg.get('bands', None) if cfg is not None else None
    bands = contract.get('bands', None)
    source = "the checkpoint's data contract"
    if bands is not None and cfg_bands is not None:
        ours = [canonical_band(b) or str(b) for b in cfg_bands]
        if ours != [canonical_band(b) or str(b) for b in bands]:
            raise ValueError(
                f'config bands {list(cfg_bands)} disagree with the bands '
                f"of the checkpoint's data contract {list(bands)} (the "
                'channel order the model was trained with); remove bands '
                'from the config: the checkpoint\'s order is used and '
                'files are matched to it by band name')
    if bands is None:
        bands, source = cfg_bands, 'config bands'
    if bands is None:
        meta = getattr(model, 'dataset_meta', None) or {}
        bands, source = meta.get('bands', None), 'dataset_meta bands'
    if bands is None:
        backbone = getattr(model, 'backbone', None)
        name = type(model).__name__ + (
            f' ({type(backbone).__name__})' if backbone is not None else '')
        if getattr(cfg, 'filename', None):
            name += f' of {cfg.filename}'
        raise ValueError(
            f'{name}: unknown band order (neither its config nor its '
            'dataset_meta has "bands"): set bands = [...] (Sentinel-2 band '
            'names in channel order) in the config, or use a dataset whose '
            'metainfo has "bands" (its checkpoints carry them)')
    names = tuple(canonical_band(b) for b in bands)
    if None in names or (in_channels is not None
                         and len(names) != in_channels):
        count = '' if in_channels is None else f'{in_channels} '
        raise ValueError(f'{source} {list(bands)} are not {count}'
                         'Sentinel-2 band names')
    return names, f'{source}: {", ".join(names)}'


def window_starts(size: int, crop: int, stride: int) -> np.ndarray:
    """Window offsets along one axis, exactly as mmseg's slide inference.

    ``n = max(size - crop + stride - 1, 0) // stride + 1`` windows; window
    k ends at ``min(k * stride + crop, size)`` and starts ``crop`` earlier
    (so the last window is flush with the border).

    Args:
        size (int): Axis length (>= crop).
        crop (int): Window size.
        stride (int): Step.

    Returns:
        np.ndarray: int64 (n,) start offsets, ascending.
    """
    n = max(size - crop + stride - 1, 0) // stride + 1
    ends = np.minimum(np.arange(n) * stride + crop, size)
    return np.maximum(ends - crop, 0).astype(np.int64)


class SITSArraySource:
    """An in-memory scene for :class:`SITSInferencer`.

    Args:
        img (np.ndarray): (T, C, H, W) values in the model's units
            (Sentinel-2 L2A reflectance x 10000, no offset), no-data pixels
            -10000 in every band.
        doy (Sequence[int]): (T,) day of year (1..366) of each frame.
        name (str): Shown in error messages. Defaults to ``'array'``.
    """

    def __init__(self, img: np.ndarray, doy: Sequence[int],
                 name: str = 'array') -> None:
        img = np.asarray(img)
        doy = np.asarray(doy)
        if img.ndim != 4:
            raise SITSDataError(f'{name}: expected a (T, C, H, W) array, '
                                f'got shape {img.shape}')
        if doy.shape != (img.shape[0], ):
            raise SITSDataError(f'{name}: {img.shape[0]} frames but '
                                f'{doy.size} dates')
        if doy.size == 0:
            raise SITSDataError(f'{name}: the time series is empty')
        if doy.min() < 1 or doy.max() > 366:
            raise SITSDataError(f'{name}: day-of-year values must lie in '
                                '1..366')
        if not np.issubdtype(img.dtype, np.number):
            raise SITSDataError(f'{name}: not a numeric array')
        order = np.argsort(doy, kind='stable')  # as LoadSITSSample
        if np.any(order != np.arange(doy.size)):
            img, doy = img[order], doy[order]
        self.img = img
        self.doy = doy.astype(np.int64)
        self.name = name
        self.height, self.width = img.shape[-2:]
        self.num_bands = img.shape[1]

    def read(self, y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
        """(T, C, y1 - y0, x1 - x0) float32 of a window inside the scene."""
        win = self.img[:, :, y0:y1, x0:x1]
        if not np.isfinite(win).all():
            raise SITSDataError(f'{self.name}: non-finite values (NaN/Inf);'
                                ' write the no-data value -10000 instead')
        return np.ascontiguousarray(win, dtype=np.float32)


@dataclass
class SITSBlock:
    """One finished output block of :meth:`SITSInferencer.iter_blocks`.

    Attributes:
        y0, y1, x0, x1 (int): Pixel extent in the scene.
        logits (np.ndarray): (K, h, w) float32 weighted mean of the window
            outputs (logits of segmentation heads, CAM scores of CAM
            heads); 0 where no window has data.
        scores (np.ndarray): (K, h, w) float32 class scores: softmax of
            ``logits`` for segmentation heads, ``logits`` for CAM heads.
        pred (np.ndarray): (h, w) uint8 class index, 255 where every date
            is no-data.
        valid (np.ndarray): (h, w) bool, some date has data.
    """

    y0: int
    y1: int
    x0: int
    x1: int
    logits: np.ndarray
    scores: np.ndarray
    pred: np.ndarray
    valid: np.ndarray


class SITSInferencer:
    """Run a SITS segmentation model on scenes of any size.

    Works for every ``SITSEncoderDecoder`` (TSViT + ``TSViTHead``, stage 2,
    TSViT + mmseg heads) and for CAM segmentors (heads with
    ``predict_with_scores``, e.g. Exact stage 1), which give the weak maps:
    per-class CAMs behind a constant background channel ``bg_threshold``,
    gated per window by ``image_labels`` when given, else by the classes
    the classifier predicts in the window.

    The scene is cut into windows of the model's input size (``window``,
    default the backbone's ``img_size``) with ``stride`` (default the
    config's slide ``stride``, else two thirds of the window), on the same
    grid as ``SITSEncoderDecoder.slide_inference``. Each window goes
    through the config's test pipeline (minus loading, image labels and
    packing: normalisation, padding to ``max_seq_len``, day-of-year
    channel) and the model; outputs are averaged with ``weighting``
    (``'uniform'``: the plain mean, identical to slide inference;
    ``'gaussian'``: weights ``exp(-d^2 / 2 sigma^2)``, sigma a quarter of
    the window, favouring window centres). Output blocks of
    ``block_size`` pixels are produced one at a time. :attr:`bands` is the
    model's band order (:func:`model_bands`: the checkpoint's data
    contract, else the config's ``bands``, else those of its dataset
    metainfo), by which GeoTIFF bands are matched. With a data contract
    (``model.data_contract``) the default window is the training window
    (for models without a fixed input size), and each scene whose dates
    lie far outside the training dates (its ``doy_range``) gets one
    warning (:func:`mmexact.utils.data_contract.doy_outside_training`).

    Args:
        model (torch.nn.Module): A model from :func:`init_model` (needs
            ``cfg``).
        batch_size (int): Windows per forward pass. Defaults to 16.
        window (int | tuple[int, int], optional): Window size.
        stride (int | tuple[int, int], optional): Window step.
        weighting (str): ``'uniform'`` or ``'gaussian'``.
        block_size (int): Output block side in pixels. Defaults to 256.
        image_labels (Sequence[int], optional): CAM models only: the
            foreground classes (1..K) present; every window's CAMs are
            gated by them. Default: each window's predicted classes.
        bg_threshold (float, optional): CAM models only: the background
            score theta (default: the head's ``bg_threshold``).
    """

    WEIGHTINGS = ('uniform', 'gaussian')

    def __init__(self,
                 model: torch.nn.Module,
                 batch_size: int = 16,
                 window=None,
                 stride=None,
                 weighting: str = 'uniform',
                 block_size: int = 256,
                 image_labels: Optional[Sequence[int]] = None,
                 bg_threshold: Optional[float] = None) -> None:
        if not hasattr(model, 'cfg'):
            raise ValueError('the model has no .cfg: build it with '
                             'mmexact.apis.init_model')
        if weighting not in self.WEIGHTINGS:
            raise ValueError(f'weighting must be one of {self.WEIGHTINGS}')
        if batch_size < 1:
            raise ValueError('batch_size must be >= 1')
        self.model = model.eval()
        self.cfg = model.cfg
        self.batch_size = int(batch_size)
        self.weighting = weighting
        head = model.decode_head
        self.is_cam = hasattr(head, 'predict_with_scores')
        self.num_classes = int(head.num_classes if self.is_cam else
                               model.out_channels)
        in_channels = getattr(model.backbone, 'in_channels', None)
        self.data_contract = getattr(model, 'data_contract', None)
        self.bands, self.bands_source = _model_bands(model, in_channels)
        self.in_channels = int(in_channels or len(self.bands))
        self.window = self._pair(window) if window is not None else \
            self._default_window()
        self.stride = self._pair(stride) if stride is not None else \
            self._default_stride()
        if any(s < 1 or s > w for s, w in zip(self.stride, self.window)):
            raise ValueError(f'stride {self.stride} must lie in 1..window '
                             f'{self.window}')
        self.block_size = int(block_size)
        if self.block_size < max(self.window):
            raise ValueError(f'block_size {block_size} is smaller than the '
                             f'window {self.window}')
        self.transforms, self.pointwise, self.max_seq_len = \
            self._build_pipeline()
        self.image_labels = None
        if image_labels is not None:
            if not self.is_cam:
                raise ValueError('image_labels only apply to CAM models')
            self.image_labels = self._multi_hot(image_labels)
        self.bg_threshold = None
        if bg_threshold is not None:
            if not self.is_cam:
                raise ValueError('bg_threshold only applies to CAM models')
            self.bg_threshold = float(bg_threshold)
        self.weights = self._window_weights()
        meta = getattr(model, 'dataset_meta', None) or {}
        self.classes, self.palette = _class_info(meta, self.num_classes)

    # ------------------------------------------------------------------
    @staticmethod
    def _pair(value) -> Tuple[int, int]:
        if isinstance(value, (int, np.integer)):
            return int(value), int(value)
        value = tuple(int(v) for v in value)
        if len(value) != 2:
            raise ValueError(f'expected one or two sizes, got {value}')
        return value

    def _default_window(self) -> Tuple[int, int]:
        """The backbone's ``img_size``, else the data contract's training
        window, the slide ``crop_size``, the data preprocessor's ``size``
        or the test / train dataset's ``window_size`` (fully convolutional
        backbones without any of these need ``window``)."""
        size = getattr(self.model.backbone, 'img_size', None)
        if size is None:
            size = (self.data_contract or {}).get('window', None)
        if size is None:
            test_cfg = self.model.test_cfg or {}
            size = test_cfg.get('crop_size', None)
        if size is None:
            size = getattr(self.model.data_preprocessor, 'size', None)
        for key in ('test_dataloader', 'train_dataloader'):
            if size is None:
                loader = self.cfg.get(key, None) or {}
                size = (loader.get('dataset', None) or {}).get(
                    'window_size', None)
        if size is None:
            raise ValueError(
                f'{type(self.model.backbone).__name__} has no fixed input '
                'size: pass window (e.g. 24 for a model trained on PASTIS24 '
                'windows, 128 for whole PASTIS patches)')
        return self._pair(size)

    def _default_stride(self) -> Tuple[int, int]:
        test_cfg = self.model.test_cfg or {}
        if test_cfg.get('mode', 'whole') == 'slide' and \
                tuple(test_cfg.get('crop_size', ())) == self.window:
            return self._pair(test_cfg['stride'])
        return tuple(max(1, int(round(2 * w / 3))) for w in self.window)

    def _build_pipeline(self):
        cfg = self.cfg
        pipeline = None
        loader = cfg.get('test_dataloader', None)
        if loader is not None:
            pipeline = loader.get('dataset', {}).get('pipeline', None)
        if pipeline is None:
            pipeline = cfg.get('test_pipeline', None)
        if pipeline is None:
            raise ValueError('the config has no test pipeline')
        transforms, names, max_len = [], [], None
        for step in pipeline:
            if step['type'] in _SKIPPED:
                continue
            t = TRANSFORMS.build(step)
            if step['type'] == 'NormalizeSITS':
                try:
                    t.mean  # noqa: B018  (reads norm_file now)
                except ValueError as exc:
                    raise ValueError(
                        f'{exc} (normalisation statistics of the model; '
                        'point the config at the file with --cfg-options '
                        'test_dataloader.dataset.pipeline.<i>.norm_file='
                        '...)') from exc
            if step['type'] == 'PadOrCutSequence':
                max_len = int(t.max_seq_len)
                if t.random_subsample:
                    names.append('random')
            transforms.append(t)
            names.append(step['type'])
        if 'AppendDayOfYear' not in names:
            raise ValueError('the test pipeline lacks AppendDayOfYear')
        pointwise = all(n in _POINTWISE for n in names)
        return transforms, pointwise, max_len

    def _multi_hot(self, labels: Sequence[int]) -> torch.Tensor:
        k = self.num_classes - 1
        vec = torch.zeros(k)
        for c in labels:
            if not 1 <= int(c) <= k:
                raise ValueError(f'image label {c} is not a foreground '
                                 f'class 1..{k}')
            vec[int(c) - 1] = 1
        return vec

    def _window_weights(self) -> Optional[np.ndarray]:
        if self.weighting == 'uniform':
            return None
        axes = []
        for w in self.window:
            d = np.arange(w, dtype=np.float64) - (w - 1) / 2
            axes.append(np.exp(-d**2 / (2 * (w / 4)**2)))
        return np.outer(*axes).astype(np.float32)

    # ------------------------------------------------------------------
    def prepare(self, windows: np.ndarray, doy: np.ndarray,
                name: str = 'scene') -> torch.Tensor:
        """Test-pipeline transforms of a batch of raw windows.

        Args:
            windows (np.ndarray): (B, T, C, h, w) float32 in model units.
            doy (np.ndarray): (T,) day of year.
            name (str): For error messages.

        Returns:
            torch.Tensor: Packed inputs (B, T', C + 1, h, w).
        """
        b, t, c, h, w = windows.shape
        if self.pointwise:  # all windows side by side as one sample
            wide = windows.transpose(1, 2, 3, 0, 4).reshape(t, c, h, b * w)
            res = dict(img=wide, doy=doy.copy(), img_path=name)
            for tr in self.transforms:
                res = tr(res)
            img = res['img']
            img = img.reshape(img.shape[:3] + (b, w)).transpose(3, 0, 1, 2, 4)
            return torch.from_numpy(np.ascontiguousarray(img, np.float32))
        samples = []
        for win in windows:
            res = dict(img=win, doy=doy.copy(), img_path=name)
            for tr in self.transforms:
                res = tr(res)
                if res is None:
                    raise SITSDataError(f'{name}: a window was rejected by '
                                        'the test pipeline')
            samples.append(torch.from_numpy(
                np.ascontiguousarray(res['img'], np.float32)))
        return samples

    @torch.no_grad()
    def forward(self, inputs) -> np.ndarray:
        """Model outputs (B, K, h, w) float32 of packed windows."""
        data = self.model.data_preprocessor(dict(inputs=inputs), False)
        x = data['inputs']
        size = tuple(x.shape[-2:])
        metas = [dict(img_shape=size, ori_shape=size, pad_shape=size,
                      padding_size=[0, 0, 0, 0])] * x.shape[0]
        if self.is_cam:
            samples = None
            if self.image_labels is not None:
                samples = []
                for _ in range(x.shape[0]):
                    s = BaseDataElement()
                    s.set_field(self.image_labels.to(x.device),
                                'gt_cls_label')
                    samples.append(s)
            head = self.model.decode_head
            theta = head.bg_threshold
            if self.bg_threshold is not None:  # for this call only
                head.bg_threshold = self.bg_threshold
            try:
                out, _ = head.predict_with_scores(
                    self.model.extract_feat(x), metas, samples)
            finally:
                head.bg_threshold = theta
        else:
            out = self.model.encode_decode(x, metas)
        return out.float().cpu().numpy()

    # ------------------------------------------------------------------
    def num_windows(self, height: int, width: int) -> int:
        """Windows of the grid over a (height, width) scene."""
        ys = window_starts(max(height, self.window[0]), self.window[0],
                           self.stride[0])
        xs = window_starts(max(width, self.window[1]), self.window[1],
                           self.stride[1])
        return len(ys) * len(xs)

    def _read(self, source, y0: int, y1: int, x0: int, x1: int
              ) -> np.ndarray:
        """Source window, no-data outside the scene."""
        h, w = source.height, source.width
        if y0 >= 0 and x0 >= 0 and y1 <= h and x1 <= w:
            return source.read(y0, y1, x0, x1)
        out = np.full((len(source.doy), source.num_bands, y1 - y0,
                       x1 - x0), NODATA, np.float32)
        iy0, iy1 = max(y0, 0), min(y1, h)
        ix0, ix1 = max(x0, 0), min(x1, w)
        if iy1 > iy0 and ix1 > ix0:
            out[:, :, iy0 - y0:iy1 - y0, ix0 - x0:ix1 - x0] = source.read(
                iy0, iy1, ix0, ix1)
        return out

    def _compute(self, source, todo: List[Tuple[int, int]], ys, xs,
                 cache: Dict, bar) -> None:
        """Run the windows ``todo`` and store (output, valid) in cache."""
        ch, cw = self.window
        ry0 = int(min(ys[i] for i, _ in todo))
        ry1 = int(max(ys[i] for i, _ in todo)) + ch
        rx0 = int(min(xs[j] for _, j in todo))
        rx1 = int(max(xs[j] for _, j in todo)) + cw
        raw = self._read(source, ry0, ry1, rx0, rx1)
        if raw.shape[1] != self.in_channels:
            raise SITSDataError(f'{source.name}: {raw.shape[1]} bands, the '
                                f'model takes {self.in_channels}')
        doy = np.asarray(source.doy)
        for k in range(0, len(todo), self.batch_size):
            chunk = todo[k:k + self.batch_size]
            wins, keep = [], []
            for i, j in chunk:
                y, x = ys[i] - ry0, xs[j] - rx0
                win = raw[:, :, y:y + ch, x:x + cw]
                valid = (win != NODATA).any(axis=(0, 1))
                if valid.any():
                    wins.append(win)
                    keep.append(((i, j), valid))
                else:  # every date is no-data: nothing to predict
                    cache[(i, j)] = None
            if wins:
                out = self.forward(self.prepare(np.stack(wins), doy,
                                                source.name))
                for (key, valid), o in zip(keep, out):
                    # a copy: a view would keep the whole batch alive
                    cache[key] = (o.copy(), valid)
            if bar is not None:
                for _ in chunk:
                    bar.update()

    def iter_blocks(self, source, progress: bool = False
                    ) -> Iterator[SITSBlock]:
        """Predict a scene block by block (raster order).

        Args:
            source: :class:`SITSArraySource` or a GeoTIFF scene of
                :mod:`mmexact.geo`: ``height``, ``width``, ``doy`` (T,),
                ``num_bands``, ``name`` and ``read(y0, y1, x0, x1)``.
            progress (bool): Show a progress bar with ETA over windows.

        Yields:
            SITSBlock: Finished blocks; each pixel of the scene is in
            exactly one.
        """
        doy = np.asarray(source.doy)
        msg = doy_outside_training(doy, self.data_contract, source.name)
        if msg is not None:
            print_log(msg, logger='current', level=WARNING)
        if self.max_seq_len is not None and len(doy) > self.max_seq_len:
            raise SITSDataError(
                f'{source.name}: {len(doy)} dates, the model takes at most '
                f'{self.max_seq_len} (select dates first)')
        h, w = int(source.height), int(source.width)
        ch, cw = self.window
        ys = window_starts(max(h, ch), ch, self.stride[0])
        xs = window_starts(max(w, cw), cw, self.stride[1])
        bs = self.block_size
        nby, nbx = math.ceil(h / bs), math.ceil(w / bs)
        # last block (raster index) that needs window row i / column j
        last_by = np.minimum((ys + ch - 1) // bs, nby - 1)
        last_bx = np.minimum((xs + cw - 1) // bs, nbx - 1)
        bar = ProgressBar(len(ys) * len(xs)) if progress else None
        cache: Dict[Tuple[int, int], Optional[tuple]] = {}
        for by in range(nby):
            r0, r1 = by * bs, min((by + 1) * bs, h)
            rows = range(int(np.searchsorted(ys + ch, r0, 'right')),
                         int(np.searchsorted(ys, r1, 'left')))
            for bx in range(nbx):
                c0, c1 = bx * bs, min((bx + 1) * bs, w)
                cols = range(int(np.searchsorted(xs + cw, c0, 'right')),
                             int(np.searchsorted(xs, c1, 'left')))
                need = [(i, j) for i in rows for j in cols]
                todo = [key for key in need if key not in cache]
                if todo:
                    self._compute(source, todo, ys, xs, cache, bar)
                yield self._stitch(cache, need, ys, xs, r0, r1, c0, c1)
                done = by * nbx + bx
                for i, j in need:
                    if last_by[i] * nbx + last_bx[j] <= done:
                        cache.pop((i, j), None)
        if bar is not None:
            print(flush=True)

    def _stitch(self, cache, need, ys, xs, r0, r1, c0, c1) -> SITSBlock:
        ch, cw = self.window
        bh, bw = r1 - r0, c1 - c0
        acc = np.zeros((self.num_classes, bh, bw), np.float32)
        wsum = np.zeros((1, bh, bw), np.float32)
        valid = np.zeros((bh, bw), bool)
        for i, j in need:  # raster order, as slide inference
            entry = cache[(i, j)]
            if entry is None:
                continue
            out, wvalid = entry
            y0, y1 = max(ys[i], r0), min(ys[i] + ch, r1)
            x0, x1 = max(xs[j], c0), min(xs[j] + cw, c1)
            dst = (slice(y0 - r0, y1 - r0), slice(x0 - c0, x1 - c0))
            src = (slice(y0 - ys[i], y1 - ys[i]),
                   slice(x0 - xs[j], x1 - xs[j]))
            if self.weights is None:
                acc[(slice(None), ) + dst] += out[(slice(None), ) + src]
                wsum[(slice(None), ) + dst] += 1
            else:
                wgt = self.weights[src]
                acc[(slice(None), ) + dst] += out[(slice(None), ) + src] * wgt
                wsum[(slice(None), ) + dst] += wgt
            valid[dst] |= wvalid[src]
        covered = wsum[0] > 0
        logits = np.divide(acc, wsum, out=np.zeros_like(acc),
                           where=covered[None])
        if self.is_cam:
            scores = logits
        else:
            scores = torch.from_numpy(logits).softmax(dim=0).numpy()
        pred = logits.argmax(axis=0).astype(np.uint8)
        valid &= covered
        pred[~valid] = 255
        return SITSBlock(r0, r1, c0, c1, logits, scores, pred, valid)

    # ------------------------------------------------------------------
    def predict_array(self, source, progress: bool = False) -> dict:
        """Predict a whole scene into memory (small scenes, the API).

        Returns:
            dict: ``pred`` (H, W) uint8 (255 = no data), ``scores`` and
            ``seg_logits`` (K, H, W) float32, ``valid`` (H, W) bool.
        """
        h, w = source.height, source.width
        k = self.num_classes
        out = dict(pred=np.empty((h, w), np.uint8),
                   scores=np.empty((k, h, w), np.float32),
                   seg_logits=np.empty((k, h, w), np.float32),
                   valid=np.empty((h, w), bool))
        for blk in self.iter_blocks(source, progress):
            sl = (slice(blk.y0, blk.y1), slice(blk.x0, blk.x1))
            out['pred'][sl] = blk.pred
            out['valid'][sl] = blk.valid
            out['scores'][(slice(None), ) + sl] = blk.scores
            out['seg_logits'][(slice(None), ) + sl] = blk.logits
        return out


def _class_info(meta: dict, num_classes: int):
    """Class names and palette for ``num_classes`` outputs."""
    classes = list(meta.get('classes', []) or [])
    palette = [list(map(int, c)) for c in (meta.get('palette', []) or [])]
    if len(classes) != num_classes:
        classes = [f'class {k}' for k in range(num_classes)]
    if len(palette) < num_classes:
        rng = np.random.default_rng(0)
        palette = palette + rng.integers(
            0, 256, (num_classes - len(palette), 3)).tolist()
    return classes, palette[:num_classes]


def config_dataset_meta(cfg: Config) -> dict:
    """Metainfo of the config's dataset: ``classes``, ``palette``, ``bands``.

    The ``METAINFO`` of the dataset class of the first of the test, val
    and train dataloaders that names one, updated by that dataset's
    ``metainfo`` argument (as mmengine's datasets do). Empty when no
    dataloader names a dataset class with metainfo.

    Args:
        cfg (Config): A model's config.

    Returns:
        dict: The metainfo, classes as a tuple, palette as lists, bands as
        a tuple (when known).
    """
    for key in ('test_dataloader', 'val_dataloader', 'train_dataloader'):
        ds = (cfg.get(key, None) or {}).get('dataset', {})
        dtype = ds.get('type', None) if isinstance(ds, dict) else None
        if dtype is None:
            continue
        cls = DATASETS.get(dtype) if isinstance(dtype, str) else dtype
        info = copy.deepcopy(dict(getattr(cls, 'METAINFO', None) or {}))
        info.update(ds.get('metainfo', None) or {})
        if info:
            info['classes'] = tuple(info.get('classes', ()))
            info['palette'] = [list(p) for p in info.get('palette', [])]
            if info.get('bands', None) is not None:
                info['bands'] = tuple(info['bands'])
            return info
    return {}
