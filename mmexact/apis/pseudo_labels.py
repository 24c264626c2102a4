# Copyright (c) mmexact contributors. All rights reserved.
"""CAMs of a stage-1 model over a dataset, threshold sweep and pseudo labels.

The building blocks of ``tools/generate_pseudo_labels.py`` and
``tools/visualize_cams.py`` (exact-method.md §7): CAMs are computed batch
by batch and consumed at once, so memory does not grow with the number of
windows. Under a process group the windows are sharded across ranks in
whole batches of a fixed global batching (every window is computed in the
same batch as by one process, so the results are bitwise equal), the sweep
histograms are summed over ranks, and every pseudo-label PNG is written
once, by the rank that owns its window. The CAMs of each checkpoint can be
cached on disk (:mod:`mmexact.apis.cam_cache`).
"""
import csv
import json
import os
import os.path as osp
from typing import Dict, Iterator, List, Optional, Sequence

import numpy as np
import torch
import torch.distributed as dist
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint
from mmengine.utils import ProgressBar
from PIL import Image
from torch import Tensor, nn
from torch.utils.data import DataLoader, Sampler, Subset

from mmseg.registry import DATASETS, MODELS
from ..evaluation import ThresholdSweep, cams_to_pseudo_labels
from ..models.utils import upsample_cams
from .cam_cache import (CAMCacheWriter, cam_cache_complete, cam_cache_key,
                        iter_cached_cams)

__all__ = [
    'build_cam_model', 'load_cam_checkpoint', 'build_cam_dataloader',
    'ShardedBatchSampler', 'sample_name', 'iter_cams', 'sweep_cams',
    'sweep_checkpoints', 'sweep_cached', 'checkpoint_cache_dir',
    'select_best', 'dump_sweep', 'write_pseudo_labels',
    'pseudo_label_options'
]


def _dist_info():
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


class ShardedBatchSampler(Sampler):
    """Batches ``[b * B, (b + 1) * B)`` of the windows in order, batch ``b``
    on rank ``b % world_size``.

    Every window lands in the same batch as in a single-process run, so its
    CAMs are computed from identical inputs, and each window belongs to one
    rank.

    Args:
        num_windows (int): Dataset length.
        batch_size (int): B.
        rank (int): This process's rank.
        world_size (int): Number of processes.
    """

    def __init__(self, num_windows: int, batch_size: int, rank: int = 0,
                 world_size: int = 1) -> None:
        if batch_size < 1:
            raise ValueError('batch_size must be >= 1')
        self.num_windows = num_windows
        self.batch_size = batch_size
        self.rank = rank
        self.world_size = world_size

    def __iter__(self):
        num_batches = -(-self.num_windows // self.batch_size)
        for b in range(self.rank, num_batches, self.world_size):
            yield list(range(b * self.batch_size,
                             min((b + 1) * self.batch_size,
                                 self.num_windows)))

    def __len__(self) -> int:
        num_batches = -(-self.num_windows // self.batch_size)
        return len(range(self.rank, num_batches, self.world_size))

    def indices(self) -> List[int]:
        """The windows of this rank."""
        return [i for batch in self for i in batch]

CRITERIA = dict(oa='oa', miou='miou')


def build_cam_model(cfg: Config,
                    checkpoint: Optional[str] = None,
                    device: str = 'cpu') -> nn.Module:
    """Build the stage-1 model of ``cfg`` in eval mode on ``device``.

    Args:
        cfg (Config): Config whose ``model`` has a decode head with
            ``predict_cams`` (:class:`SITSCAMHead`, :class:`CBCAMHead`).
        checkpoint (str, optional): Weights to load.
        device (str): Torch device. Defaults to ``'cpu'``.
    """
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    model = MODELS.build(cfg.model)
    head = getattr(model, 'decode_head', None)
    if not hasattr(head, 'predict_cams'):
        raise TypeError(f'{type(head).__name__} has no predict_cams(): use '
                        'a stage-1 config (SITSCAMHead / CBCAMHead)')
    model.to(device)
    if checkpoint is not None:
        load_cam_checkpoint(model, checkpoint)
    return model.eval()


def load_cam_checkpoint(model: nn.Module, checkpoint: str) -> None:
    """Load ``checkpoint`` into ``model`` (strict) and set eval mode."""
    load_checkpoint(model, checkpoint, map_location='cpu', strict=True)
    model.eval()


def build_cam_dataloader(cfg: Config,
                         split: str = 'test',
                         batch_size: int = 16,
                         num_workers: Optional[int] = None,
                         max_samples: Optional[int] = None,
                         shard: Optional[bool] = None) -> DataLoader:
    """Ordered DataLoader over ``cfg.<split>_dataloader.dataset``.

    For stage-1 configs the test split is the training folds 1-3, on which
    the reference evaluates CAMs and writes pseudo labels. Inside a process
    group the batches are sharded across ranks
    (:class:`ShardedBatchSampler`).

    Args:
        cfg (Config): Config.
        split (str): ``'train'``, ``'val'`` or ``'test'``. Defaults to
            ``'test'``.
        batch_size (int): Windows per batch. Defaults to 16.
        num_workers (int, optional): Loader workers; defaults to the
            config's value for the split.
        max_samples (int, optional): Use only the first windows.
        shard (bool, optional): Shard across ranks; defaults to whether a
            process group is initialised.
    """
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    loader_cfg = cfg.get(f'{split}_dataloader')
    if loader_cfg is None:
        raise KeyError(f'config has no {split}_dataloader')
    if _pseudo_label_steps(loader_cfg.dataset.get('pipeline') or []):
        raise ValueError(f'the {split} pipeline reads pseudo labels '
                         '(LoadPseudoLabel); CAMs must be evaluated against '
                         'the ground truth')
    dataset = DATASETS.build(loader_cfg.dataset)
    if max_samples is not None and max_samples < len(dataset):
        dataset = Subset(dataset, range(max(max_samples, 0)))
    if num_workers is None:
        num_workers = loader_cfg.get('num_workers', 0)
    rank, world = _dist_info() if shard in (None, True) else (0, 1)
    return DataLoader(
        dataset,
        batch_sampler=ShardedBatchSampler(len(dataset), batch_size, rank,
                                          world),
        num_workers=num_workers,
        collate_fn=pseudo_collate)


def _pseudo_label_steps(pipeline) -> List[int]:
    return [i for i, t in enumerate(pipeline)
            if isinstance(t, dict) and t.get('type') == 'LoadPseudoLabel']


def pseudo_label_options(cfg: Config, pseudo_label_dir: str,
                         split: str = 'train') -> List[str]:
    """``--cfg-options`` pointing a split's ``LoadPseudoLabel`` at a folder.

    Args:
        cfg (Config): E.g. a stage-2 config.
        pseudo_label_dir (str): Folder of the pseudo-label PNGs.
        split (str): Dataloader whose pipeline reads them. Defaults to
            ``'train'``.

    Returns:
        list[str]: ``<split>_dataloader.dataset.pipeline.<i>.
        pseudo_label_dir=<dir>`` for every ``LoadPseudoLabel`` step.

    Raises:
        ValueError: If the pipeline has no ``LoadPseudoLabel``.
    """
    loader = cfg.get(f'{split}_dataloader') or {}
    steps = _pseudo_label_steps(
        (loader.get('dataset') or {}).get('pipeline') or [])
    if not steps:
        raise ValueError(
            f'the {split} pipeline of the config has no LoadPseudoLabel '
            'step: add dict(type=\'LoadPseudoLabel\', pseudo_label_dir=...) '
            'after LoadSITSSample (see configs/exact/exact-stage2_*.py)')
    return [f'{split}_dataloader.dataset.pipeline.{i}.pseudo_label_dir='
            f'{pseudo_label_dir}' for i in steps]


def sample_name(sample, index: int) -> str:
    """File stem of a window: its ``sample_id``, else its file name."""
    meta = sample.metainfo
    if meta.get('sample_id') is not None:
        return str(meta['sample_id'])
    if meta.get('img_path') is not None:
        return osp.splitext(osp.basename(meta['img_path']))[0]
    return f'{index:06d}'


def iter_cams(model: nn.Module,
              dataloader: DataLoader,
              progress: bool = True,
              amp_dtype: Optional[torch.dtype] = None) -> Iterator[dict]:
    """Compute the CAMs of every batch (inference only, in order).

    Args:
        model (nn.Module): Stage-1 segmentor in eval mode.
        dataloader (DataLoader): From :func:`build_cam_dataloader`.
        progress (bool): Show a progress bar (with ETA) over the windows of
            all ranks, on rank 0.
        amp_dtype (torch.dtype, optional): Run the network under autocast
            with this dtype (``torch.bfloat16`` / ``torch.float16``); the
            clue maths and the CAMs stay float32.

    Yields:
        dict: ``cams`` (B, K, h, w) in [0, 1] (absent classes 0),
        ``scores`` (B, K, H, W): the CAMs upsampled to the input size
        (bilinear, ``align_corners=True``), ``probs`` (B, K) class
        probabilities, ``gt`` (B, H, W) int64 pixel labels (255 = ignore)
        or None, ``data_samples`` (preprocessed, on the model's device),
        ``inputs`` (the packed (T, C + 1, H, W) CPU tensors) and ``index``
        (the windows' dataset indices).
    """
    rank, world = _dist_info()
    sampler = dataloader.batch_sampler
    total = len(dataloader.dataset)
    bar = ProgressBar(total) if progress and rank == 0 else None
    done = 0
    device = next(model.parameters()).device
    for indices, batch in zip(sampler, dataloader):
        with torch.no_grad(), torch.autocast(
                device.type, dtype=amp_dtype, enabled=amp_dtype is not None):
            data = model.data_preprocessor(batch, False)
            feats = model.extract_feat(data['inputs'])
            cams, probs = model.decode_head.predict_cams(
                feats, data['data_samples'])
            scores = upsample_cams(cams, data['inputs'].shape[-2:])
        samples = data['data_samples']
        gt = None
        if all('gt_sem_seg' in s for s in samples):
            gt = torch.stack([s.gt_sem_seg.data[0] for s in samples]).to(
                device=scores.device, dtype=torch.int64)
        yield dict(
            cams=cams,
            scores=scores,
            probs=probs,
            gt=gt,
            data_samples=samples,
            inputs=batch['inputs'],
            index=list(indices))
        if bar is not None:
            # the other ranks advance alike: count their batches too
            step = min(len(samples) * world, total - done)
            done += step
            bar.update(step)
    if bar is not None:
        bar.file.write('\n')


def _all_reduce_hist(sweep: ThresholdSweep, device) -> None:
    rank, world = _dist_info()
    if world > 1:
        hist = sweep.hist.to(device)
        dist.all_reduce(hist)
        sweep.hist = hist.cpu()


def sweep_cams(model: nn.Module,
               dataloader: DataLoader,
               thresholds: Optional[Sequence[float]] = None,
               progress: bool = True,
               cache: Optional['CAMCacheWriter'] = None,
               amp_dtype: Optional[torch.dtype] = None) -> dict:
    """One pass over the data: metrics of every threshold.

    Under a process group each rank sweeps its windows and the histograms
    are summed, so every rank returns the metrics of all windows.

    Args:
        cache (CAMCacheWriter, optional): Also store the CAMs there.

    Returns:
        dict: :meth:`ThresholdSweep.compute` of the pass.
    """
    sweep = ThresholdSweep(
        thresholds, num_classes=model.decode_head.num_classes)
    device = next(model.parameters()).device
    names = None
    for out in iter_cams(model, dataloader, progress, amp_dtype):
        if out['gt'] is None:
            raise KeyError('samples carry no gt_sem_seg: the sweep needs '
                           'pixel ground truth')
        sweep.update(out['scores'], out['gt'])
        if cache is not None:
            names = [sample_name(s, i) for s, i in
                     zip(out['data_samples'], out['index'])]
            present = out['cams'].flatten(2).amax(-1) > 0
            cache.add(out['index'], names, out['cams'], present, out['gt'])
    if cache is not None:
        cache.close()
    _all_reduce_hist(sweep, device)
    return _checked(sweep.compute())


def _checked(res: dict) -> dict:
    if res['num_pixels'] == 0:
        raise ValueError('no valid ground-truth pixel in the data')
    return res


def sweep_cached(cache_dir: str,
                 dataloader: DataLoader,
                 num_classes: int,
                 thresholds: Optional[Sequence[float]] = None,
                 device='cpu') -> dict:
    """:func:`sweep_cams` from cached CAMs (no network).

    Each rank reads the windows of its shard of ``dataloader``; the
    histograms are summed over ranks.
    """
    sweep = ThresholdSweep(thresholds, num_classes=num_classes)
    wanted = set(dataloader.batch_sampler.indices())
    size = None
    for batch in iter_cached_cams(cache_dir, wanted):
        if batch['gt'] is None:
            raise KeyError(f'{cache_dir}: the cache holds no ground truth')
        size = batch['gt'].shape[-2:]
        sweep.update(upsample_cams(batch['cams'], size), batch['gt'])
    _all_reduce_hist(sweep, device)
    return _checked(sweep.compute())


def _cache_dir(cache_root: str, checkpoint: str, key: str) -> str:
    stem = osp.splitext(osp.basename(checkpoint))[0]
    return osp.join(cache_root, f'{stem}-{key}')


def _window_names(dataloader: DataLoader) -> List[str]:
    dataset = dataloader.dataset
    base = dataset.dataset if isinstance(dataset, Subset) else dataset
    indices = dataset.indices if isinstance(dataset, Subset) else \
        range(len(dataset))
    names = []
    for i in indices:
        info = base.get_data_info(i) if hasattr(base, 'get_data_info') \
            else {}
        names.append(str(info.get('sample_id', info.get('img_path', i))))
    return names


def checkpoint_cache_dir(model_cfg: dict, checkpoint: str,
                         dataloader: DataLoader, split: str,
                         cache_root: str) -> str:
    """The cache folder of ``checkpoint`` on this split (keyed by content,
    model config and windows)."""
    key = cam_cache_key(checkpoint, model_cfg, split,
                        _window_names(dataloader))
    return _cache_dir(cache_root, checkpoint, key)


def sweep_checkpoints(model: nn.Module,
                      checkpoints: Sequence[str],
                      dataloader: DataLoader,
                      thresholds: Optional[Sequence[float]] = None,
                      progress: bool = True,
                      cache_dirs: Optional[Sequence[str]] = None,
                      amp_dtype: Optional[torch.dtype] = None
                      ) -> List[dict]:
    """:func:`sweep_cams` for each checkpoint loaded into ``model``.

    Args:
        cache_dirs (Sequence[str], optional): One cache folder per
            checkpoint: read when complete (the checkpoint is then not
            even loaded), written otherwise.
        amp_dtype (torch.dtype, optional): Autocast dtype of the network.

    Returns:
        list[dict]: One result per checkpoint, with ``checkpoint`` and
        ``cached`` (read from the cache) added.
    """
    rank, world = _dist_info()
    device = next(model.parameters()).device
    results = []
    for i, ckpt in enumerate(checkpoints):
        cache_dir = cache_dirs[i] if cache_dirs else None
        if cache_dir is not None and cam_cache_complete(cache_dir):
            res = sweep_cached(cache_dir, dataloader,
                               model.decode_head.num_classes, thresholds,
                               device)
            res['cached'] = True
        else:
            load_cam_checkpoint(model, ckpt)
            writer = None if cache_dir is None else CAMCacheWriter(
                cache_dir, rank, world)
            res = sweep_cams(model, dataloader, thresholds, progress,
                             writer, amp_dtype)
            res['cached'] = False
        res['checkpoint'] = ckpt
        results.append(res)
    return results


def select_best(results: Sequence[dict], criterion: str = 'oa') -> dict:
    """The (checkpoint, threshold) pair with the best ``criterion``.

    Ties go to the earlier checkpoint, then to the lower threshold.

    Args:
        results (Sequence[dict]): From :func:`sweep_checkpoints`.
        criterion (str): ``'oa'`` (reference, exact-method.md §7.3) or
            ``'miou'`` (plain-mean mIoU).

    Returns:
        dict: ``criterion``, ``checkpoint``, ``checkpoint_index``,
        ``threshold``, ``threshold_index``, ``mIoU``, ``OA``, ``mIoU_nan``.
    """
    if criterion not in CRITERIA:
        raise ValueError(f'criterion must be one of {sorted(CRITERIA)}')
    best = None
    for i, res in enumerate(results):
        values = res[CRITERIA[criterion]]
        j = int(torch.argmax(values))
        if best is None or values[j] > best[0]:
            best = (values[j], i, j)
    if best is None:
        raise ValueError('no sweep results')
    _, i, j = best
    res = results[i]
    return dict(
        criterion=criterion,
        checkpoint=res.get('checkpoint'),
        checkpoint_index=i,
        threshold=float(res['thresholds'][j]),
        threshold_index=j,
        mIoU=float(res['miou'][j]),
        OA=float(res['oa'][j]),
        mIoU_nan=float(res['miou_nan'][j]))


def _rows(results: Sequence[dict]) -> List[dict]:
    rows = []
    for res in results:
        for j, thr in enumerate(res['thresholds'].tolist()):
            rows.append(
                dict(
                    checkpoint=res.get('checkpoint'),
                    threshold=round(thr, 10),
                    mIoU=float(res['miou'][j]),
                    OA=float(res['oa'][j]),
                    mIoU_nan=float(res['miou_nan'][j]),
                    IoU=res['iou'][j].tolist()))
    return rows


def dump_sweep(results: Sequence[dict],
               out_dir: str,
               selection: Optional[dict] = None,
               class_names: Optional[Sequence[str]] = None,
               meta: Optional[dict] = None) -> Dict[str, str]:
    """Write ``sweep.csv`` and ``sweep.json`` (metrics as fractions).

    CSV columns: ``checkpoint, threshold, mIoU, OA, mIoU_nan, IoU_0 ...
    IoU_{C-1}``, one row per (checkpoint, threshold). The JSON holds the
    same rows plus ``selection`` (see :func:`select_best`), the best pair
    by each criterion, the class names and ``meta``.

    Returns:
        dict: Paths, keys ``csv`` and ``json``.
    """
    os.makedirs(out_dir, exist_ok=True)
    rows = _rows(results)
    num_classes = len(rows[0]['IoU']) if rows else 0
    paths = dict(
        csv=osp.join(out_dir, 'sweep.csv'),
        json=osp.join(out_dir, 'sweep.json'))
    with open(paths['csv'], 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(['checkpoint', 'threshold', 'mIoU', 'OA', 'mIoU_nan'] +
                        [f'IoU_{c}' for c in range(num_classes)])
        for r in rows:
            writer.writerow([
                r['checkpoint'], f'{r["threshold"]:.10g}', repr(r['mIoU']),
                repr(r['OA']), repr(r['mIoU_nan'])
            ] + [repr(v) for v in r['IoU']])
    summary = dict(
        selection=selection,
        best={k: select_best(results, k)
              for k in CRITERIA} if results else {},
        class_names=list(class_names) if class_names is not None else None,
        num_pixels=[int(r['num_pixels']) for r in results],
        meta=meta or {},
        rows=rows)
    with open(paths['json'], 'w') as f:
        json.dump(summary, f, indent=1, allow_nan=True)
    return paths


def _save_png(label: Tensor, out_dir: str, name: str, size=None) -> None:
    h, w = size if size is not None else label.shape
    arr = label[:h, :w].numpy().astype(np.uint8)
    Image.fromarray(arr).save(osp.join(out_dir, name + '.png'))


def write_pseudo_labels(model: nn.Module,
                        dataloader: DataLoader,
                        threshold: float,
                        out_dir: str,
                        progress: bool = True,
                        cache_dir: Optional[str] = None,
                        amp_dtype: Optional[torch.dtype] = None) -> int:
    """Write ``<out_dir>/<sample_id>.png`` for every window of this rank.

    8-bit grayscale PNGs at the window's size with values ``0..K``
    (exact-method.md §7.2), as read by ``LoadPseudoLabel``. With
    a complete ``cache_dir`` the CAMs are read from it instead of being
    computed.

    Returns:
        int: Number of PNGs written by this rank.
    """
    os.makedirs(out_dir, exist_ok=True)
    count = 0
    if cache_dir is not None and cam_cache_complete(cache_dir):
        wanted = set(dataloader.batch_sampler.indices())
        for batch in iter_cached_cams(cache_dir, wanted):
            if batch['gt'] is None:
                raise KeyError(f'{cache_dir}: the cache holds no ground '
                               'truth (label size unknown)')
            size = batch['gt'].shape[-2:]
            labels = cams_to_pseudo_labels(
                upsample_cams(batch['cams'], size), threshold)
            for label, name in zip(labels, batch['names']):
                _save_png(label, out_dir, name)
                count += 1
        return count
    for out in iter_cams(model, dataloader, progress, amp_dtype):
        labels = cams_to_pseudo_labels(out['scores'], threshold).cpu()
        for label, sample, index in zip(labels, out['data_samples'],
                                        out['index']):
            _save_png(label, out_dir, sample_name(sample, index),
                      sample.metainfo.get('img_shape', label.shape)[:2])
            count += 1
    return count
