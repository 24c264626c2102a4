# Copyright (c) mmexact contributors. All rights reserved.
"""Workloads of ``tools/analysis_tools/benchmark.py`` (Exact's stage-1
model).

Every function measures one workload in the current process; run each in
its own process to get a clean peak-memory figure (the tool does that).
"""
import resource
import statistics
import sys
import time
from contextlib import nullcontext
from typing import Callable, Dict, List, Optional

import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from torch.utils.flop_counter import FlopCounterMode

from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from mmexact.models.layers.fused_ops import plain_autograd
from mmexact.utils import register_cpu_attention_flops

__all__ = [
    'build_benchmark_model', 'synthetic_batch', 'bench_train_step',
    'bench_cam_generation', 'bench_threshold_sweep',
    'bench_reference_sweep', 'bench_matmul', 'peak_memory_mb',
    'fit_memory_model'
]


register_cpu_attention_flops()


def peak_memory_mb(device: torch.device) -> float:
    """Peak memory so far: CUDA allocator peak or process peak RSS (MiB)."""
    if device.type == 'cuda':
        return torch.cuda.max_memory_allocated(device) / 2**20
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 2**20 if sys.platform == 'darwin' else rss / 2**10


def _sync(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def _timed(fn: Callable[[], None], device: torch.device, warmup: int,
           iters: int) -> List[float]:
    for _ in range(warmup):
        fn()
    _sync(device)
    times = []
    for _ in range(iters):
        start = time.perf_counter()
        fn()
        _sync(device)
        times.append(time.perf_counter() - start)
    return times


def _autocast(device: torch.device, dtype: Optional[torch.dtype]):
    if dtype is None:
        return nullcontext()
    return torch.autocast(device.type, dtype=dtype)


def build_benchmark_model(config: str,
                          device: torch.device,
                          cfg_options: Optional[dict] = None
                          ) -> torch.nn.Module:
    """Build the model of ``config`` (random weights) on ``device``."""
    init_default_scope('mmseg')
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return MODELS.build(cfg.model).to(device)


def synthetic_batch(batch_size: int,
                    num_frames: int = 60,
                    valid_frames: int = 43,
                    size: int = 24,
                    bands: int = 10,
                    num_classes: int = 18,
                    seed: int = 0) -> Dict[str, list]:
    """A packed batch shaped like PASTIS24 (T padded to ``num_frames``)."""
    g = torch.Generator().manual_seed(seed)
    inputs, samples = [], []
    for _ in range(batch_size):
        x = torch.zeros(num_frames, bands + 1, size, size)
        x[:valid_frames, :bands] = torch.randn(valid_frames, bands, size,
                                               size, generator=g)
        doy = torch.sort(torch.randint(1, 366, (valid_frames, ),
                                       generator=g))[0]
        x[:valid_frames, -1] = doy[:, None, None].float()
        s = SegDataSample()
        s.gt_sem_seg = PixelData(
            data=torch.randint(0, num_classes + 1, (1, size, size),
                               generator=g))
        label = (torch.rand(num_classes, generator=g) < 0.15).float()
        label[int(torch.randint(0, num_classes, (1, ), generator=g))] = 1
        s.set_field(label, 'gt_cls_label')
        s.set_metainfo(dict(img_shape=(size, size), ori_shape=(size, size)))
        inputs.append(x)
        samples.append(s)
    return dict(inputs=inputs, data_samples=samples)


def bench_train_step(model: torch.nn.Module,
                     batch: dict,
                     device: torch.device,
                     warmup: int = 1,
                     iters: int = 5,
                     amp: Optional[torch.dtype] = None,
                     step: int = 5000) -> Dict[str, float]:
    """Forward + full loss + backward + AdamW step after prototype warm-up.

    Returns samples/s (median), the FLOPs of one step (counted once with
    ``FlopCounterMode`` on the plain composition of the layers: model FLOPs
    without the recomputation of the memory-lean layers), the achieved
    FLOP rate and the peak memory of the timed steps.
    """
    model.train()
    optim = OptimWrapper(torch.optim.AdamW(model.parameters(), lr=1e-3))
    head = model.decode_head

    def run() -> None:
        if hasattr(head, 'set_train_step'):
            head.set_train_step(step)
        with _autocast(device, amp):
            data = model.data_preprocessor(batch, True)
            losses = model(**data, mode='loss')
            loss, _ = model.parse_losses(losses)
        optim.update_params(loss)

    times = _timed(run, device, warmup, iters)
    peak = peak_memory_mb(device)  # before the FLOP count (it holds more)
    with plain_autograd(), FlopCounterMode(display=False) as counter:
        run()
    flops = counter.get_total_flops()
    med = statistics.median(times)
    bs = len(batch['inputs'])
    return dict(
        samples_per_s=bs / med,
        step_s=med,
        flops_per_step=float(flops),
        gflops_per_s=flops / med / 1e9,
        peak_mem_mb=peak)


@torch.no_grad()
def bench_cam_generation(model: torch.nn.Module,
                         batch: dict,
                         device: torch.device,
                         warmup: int = 1,
                         iters: int = 5,
                         amp: Optional[torch.dtype] = None
                         ) -> Dict[str, float]:
    """Eval forward + CB-CAM + min-max normalisation (samples/s)."""
    model.eval()

    def run() -> None:
        with _autocast(device, amp):
            data = model.data_preprocessor(batch, False)
            feats = model.extract_feat(data['inputs'])
            model.decode_head.predict_cams(feats, data['data_samples'])

    times = _timed(run, device, warmup, iters)
    med = statistics.median(times)
    return dict(samples_per_s=len(batch['inputs']) / med, step_s=med)


def bench_threshold_sweep(num_windows: int,
                          device: torch.device,
                          batch_size: int = 64,
                          iters: int = 3) -> Dict[str, float]:
    """Windows/s of the 60-threshold sweep (upsampling included)."""
    from mmexact.evaluation import ThresholdSweep
    from mmexact.models.utils import upsample_cams
    g = torch.Generator().manual_seed(0)
    cams = torch.rand(batch_size, 18, 12, 12, generator=g).to(device)
    cams = cams * (torch.rand(batch_size, 18, 1, 1, generator=g) <
                   0.2).to(device)
    gt = torch.randint(0, 19, (batch_size, 24, 24), generator=g).to(device)
    batches = max(num_windows // batch_size, 1)

    def run() -> None:
        sweep = ThresholdSweep()
        for _ in range(batches):
            sweep.update(upsample_cams(cams, (24, 24)), gt)
        sweep.compute()

    times = _timed(run, device, 1, iters)
    return dict(windows_per_s=batches * batch_size /
                statistics.median(times))


def bench_matmul(device: torch.device,
                 n: int = 1024,
                 iters: int = 20,
                 dtype: torch.dtype = torch.float32) -> Dict[str, float]:
    """Measured matmul rate of the machine in ``dtype`` (GFLOP/s): the best
    of ``iters`` products, so that noise cannot flatter the FLOP-rate
    ratio."""
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    times = _timed(lambda: a @ b, device, 3, iters)
    return dict(gflops_per_s=2 * n**3 / min(times) / 1e9)


def bench_reference_sweep(num_windows: int,
                          iters: int = 1) -> Dict[str, float]:
    """Windows/s of the reference's sweep: a Python loop over windows and
    thresholds with ``scipy.ndimage.zoom`` per window and threshold
    (exact-method.md §7.2-7.3; re-implemented here as the baseline)."""
    import numpy as np
    from scipy.ndimage import zoom
    rng = np.random.default_rng(0)
    thresholds = [round(0.01 * i, 2) for i in range(60)]
    windows = []
    for _ in range(num_windows):
        present = rng.choice(18, size=rng.integers(1, 4), replace=False)
        cams = {int(c): rng.random((12, 12)).astype(np.float32)
                for c in present}
        windows.append((cams, rng.integers(0, 19, (24, 24))))

    def run() -> None:
        hist = np.zeros((len(thresholds), 19 * 19), np.int64)
        for cams, gt in windows:
            for t, theta in enumerate(thresholds):
                scores = np.zeros((19, 12, 12), np.float32)
                for c, cam in cams.items():
                    scores[c + 1] = cam
                up = zoom(scores, (1, 2, 2), order=1)
                up[0] = theta
                pred = up.argmax(0)
                hist[t] += np.bincount((gt * 19 + pred).ravel(),
                                       minlength=19 * 19)

    times = _timed(run, torch.device('cpu'), 0, iters)
    return dict(windows_per_s=num_windows / statistics.median(times))


def fit_memory_model(points: List[tuple]) -> Dict[str, float]:
    """Least-squares fit of peak memory to batch size B and frames T.

    Model: ``peak = base + B * (per_sample + per_sample_frame * T)``
    (a fixed part, a per-sample part such as the class tokens, and a part
    per sample and frame).

    Args:
        points (list[tuple]): ``(B, T, peak_mb)``, at least 3 with two
            different T.

    Returns:
        dict: ``base_mb``, ``mb_per_sample``, ``mb_per_sample_frame`` and
        ``max_abs_residual_mb``.
    """
    import numpy as np
    x = np.array([[1., b, b * t] for b, t, _ in points])
    y = np.array([m for *_, m in points], dtype=float)
    if np.linalg.matrix_rank(x) < 3:
        raise ValueError('the memory model needs >= 3 points with at least '
                         'two batch sizes and two frame counts')
    coef = np.linalg.lstsq(x, y, rcond=None)[0]
    return dict(
        base_mb=float(coef[0]),
        mb_per_sample=float(coef[1]),
        mb_per_sample_frame=float(coef[2]),
        max_abs_residual_mb=float(np.abs(x @ coef - y).max()))
